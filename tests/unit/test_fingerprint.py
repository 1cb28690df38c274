"""Campaign fingerprints: the same message with a few words changed is similar; other messages are not."""

from moderation.scoring.fingerprint import SIMILAR, signature, similarity

BASE = "Срочно нужны люди на удалённую работу, доход от пяти тысяч в день, пишите в личные сообщения"


def test_variants_of_one_message_are_similar():
    for variant in (
        "СРОЧНО нужны люди на удаленную работу доход от пяти тысяч в день пишите в личные сообщения!!!",
        "Срочно нужны люди на удалённую работу, доход от семи тысяч в день, пишите в личку",
        "Срочно нужны люди на удалённую подработку, доход от пяти тысяч в сутки, пишите в личные сообщения",
        "Cрочно нужны люди на yдалённyю работу, доход от пяти тысяч в день, пишите в личные сообщения",
    ):
        assert similarity(signature(BASE), signature(variant)) >= SIMILAR, variant


def test_different_messages_are_not():
    for other in (
        "Срочно нужны люди на стройку в Астане, оплата сдельная, звоните по номеру в профиле",
        "Аким района опять обещал отремонтировать дорогу к весне, но ничего не сделал",
        "Отличная статья про ремонт дорог, спасибо автору за подробности и фотографии",
    ):
        assert similarity(signature(BASE), signature(other)) < SIMILAR, other


def test_short_texts_are_never_fingerprinted():
    assert signature("Спасибо, согласен!") is None
    assert similarity(None, signature(BASE)) == 0.0
    assert len(signature(BASE)) == 256


def test_many_at_once_agree_with_one_at_a_time():
    from moderation.scoring.fingerprint import similarities

    others = [
        signature(BASE),
        None,
        signature("Аким района опять обещал отремонтировать дорогу к весне, увы"),
        signature("СРОЧНО нужны люди на удаленную работу доход от пяти тысяч в день пишите в личные"),
    ]
    one_by_one = [similarity(signature(BASE), other) for other in others]
    assert list(similarities(signature(BASE), others)) == one_by_one
