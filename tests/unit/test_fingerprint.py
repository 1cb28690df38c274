"""Campaign fingerprints: the same message with a few words changed is similar; other messages are not."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from moderation.scoring import fingerprint
from moderation.scoring.fingerprint import SIMILAR, signature, similarity

KNOWN_PREFIX = "02d9b2b602af92a803345a1f006013bb"  # BASE's first four positions, as Python's integers computed them
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


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2**64 - 1), min_size=1, max_size=40))
def test_the_permutations_in_64_bit_integers_are_pythons_exact_arithmetic(hashes):
    """Stored fingerprints stay comparable: numpy's 64-bit arithmetic gives the minima Python's integers give."""
    expected = [
        min(((a * h + b) % fingerprint._PRIME) & fingerprint._MAX for h in hashes) for a, b in fingerprint._COEFFS
    ]
    got = (fingerprint._permuted(np.array(hashes, dtype=np.uint64)) & np.uint64(fingerprint._MAX)).min(axis=1)
    assert [int(v) for v in got] == expected


def test_a_known_signature_is_unchanged():
    assert signature(BASE)[:32] == KNOWN_PREFIX
