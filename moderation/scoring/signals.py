"""Moderator signals of a comment: links, handles, scripts, capitals, money and contact words.

Computed with numpy over a whole batch; scaled to roughly 0..1 so that one regularisation
strength suits them and the hashed n-grams alike.
"""

from __future__ import annotations

import re

import numpy as np

from .normalise import KAZAKH_LETTERS, LINK_PATTERNS, Normalised, normalise, visible_nfkc

# Column order of the signals in the feature matrix (after the hashed n-grams); FEATURE_VERSION
# in features.py must change when it does.
SIGNAL_NAMES = (
    "has_url",
    "n_urls",
    "has_handle",
    "has_phone",
    "has_email",
    "spaced",
    "mixed_share",
    "caps_share",
    "repeat_share",
    "long_numbers",
    "emoji_share",
    "exclaim",
    "cyrillic_share",
    "kazakh_share",
    "log_len",
    "log_words",
    "offer_terms",
    "contact_terms",
    "cyrillic_text",
)

# Signals of a disguise, which may raise a score and never lower it. Letters split by separators («б е с п л а т н
# о», «д.у.р.а.к») also match common abbreviations of ordinary Russian («и т.д», «т.к», «л/с», «б/у»), so both models
# learned a negative weight for the signal (v20261204-140703: spam -0.98 log-odds in the Russian head, toxicity
# -0.32 / -0.17): a spammer who split one word into letters lowered the offer's score (a job offer 0.51 -> 0.30).
# Raised to 0 after fitting (DomainLogit.floor_columns, in train.fit_model) and after a site's adapter is folded in
# (adapt.fold). On v20261204-140703's dev split no spam figure moved (F1 0.9312, Russian spam caught 91.8%, ordinary
# comments flagged as before): of the 20 ordinary toxicity-corpus rows with such a run none crossed spam_hold.
NON_NEGATIVE_SIGNALS = ("spaced",)

# Evidence of spam, not of an insult: a link, a handle, a phone number, an e-mail address, a long number, an offer or
# a call to write. The toxicity models had learned weights for them from their corpora all the same
# (v20261205-032408, forum / Kazakh head: has_handle -0.81 / -1.50 log-odds, long_numbers -2.24 / -1.97, n_urls +3.08 /
# +3.27), and the handle, link, phone and e-mail placeholders' own n-grams weighed -1.4 to +1.6. So appending
# «1234 5678 9012» released 21 of the 61 toxic hand-labelled news comments that version held, «@ivan_petrov» 22, and a
# reader citing links had his toxicity raised. In the toxicity model these signals and the placeholders' own n-grams
# weigh 0 (DomainLogit.constrain, in train.fit_model and adapt.fold; CommentFeaturizer.ignored_columns).
SPAM_EVIDENCE_SIGNALS = (
    "has_url",
    "n_urls",
    "has_handle",
    "has_phone",
    "has_email",
    "long_numbers",
    "offer_terms",
    "contact_terms",
)
# What the toxicity model ignores: the spam evidence above, and emoji. The models had learned that emoji mean an
# ordinary comment (v20261205-070559, forum / Kazakh head: emoji_share -3.85 / -11.1 log-odds), so «😂😂😂» appended
# released 6 of the 62 toxic hand-labelled news comments that version held. In real news comments emoji say
# nothing either way: of the hand-labelled ones, 11.8% with emoji are toxic against 9.6% without (training set,
# models/train/) and 13.7% against 15.3% (evaluation set, models/eval/).
TOXICITY_IGNORED_SIGNALS = SPAM_EVIDENCE_SIGNALS + ("emoji_share",)

_LONG_NUMBER_RE = re.compile(r"\d{4,}")
# What a moderator recognises in Russian spam even in words the training data never had:
# offers of money or work, and calls to move the talk elsewhere. Word starts, normalised text.
_OFFER_RE = re.compile(
    r"(?<!\w)(?:заработ|зарабат|доход|подработ|удален|удаленк|вакан|выплат|оплат|займ|кредит|"
    r"микрозайм|крипт|биткоин|инвест|трейд|бирж|казино|ставк|бонус|приз|выигр|бесплатн|скидк|"
    r"акци|предлага|ищу|требу|набор|курьер|прибыл|пассивн|схем|арбитраж|руб|₽|\$|usdt|usd)"
)
_CONTACT_RE = re.compile(
    r"(?<!\w)(?:пиш|напиш|обращ|звон|личк|лс|директ|телеграм|телега|тг|whatsapp|ватсап|вотсап|"
    r"вайбер|viber|переход|жми|подпис|ссылк|профил|\ue001|\ue003|\ue004)"
)
KAZAKH_ROUTE = 0.3  # kazakh_share above this (3% of letters) routes a comment to the Kazakh head
_KAZAKH = np.array([ord(c) for c in KAZAKH_LETTERS + KAZAKH_LETTERS.upper()], dtype=np.uint32)


def is_kazakh(text: str, letters_without_links: bool = True) -> bool:
    """True when a featurizer with this `letters_without_links` would route a text to the Kazakh head (over 3%
    Kazakh-only letters)."""
    signals = signal_matrix([text], [normalise(text)], letters_without_links)
    return signals[0, SIGNAL_NAMES.index("kazakh_share")] > KAZAKH_ROUTE


def _distinct_matches(pattern: re.Pattern, texts: list[str], distinct: bool = True) -> np.ndarray:
    """Matches of `pattern` per text (distinct ones by default), found in one pass over the batch.

    One regex scan of the joined batch is far cheaper than one call per comment; matches are
    rare, so mapping them back to their comment costs little. No pattern here matches a newline.
    """
    joined = "\n".join(texts)
    starts = np.cumsum([0] + [len(t) + 1 for t in texts[:-1]])
    found = [(m.start(), m.group()) for m in pattern.finditer(joined)]
    out = np.zeros(len(texts))
    if not found:
        return out
    rows = np.searchsorted(starts, [pos for pos, _ in found], side="right") - 1
    if distinct:
        pairs = set(zip(rows.tolist(), (g for _, g in found)))
        rows = np.fromiter((r for r, _ in pairs), dtype=np.int64, count=len(pairs))
    np.add.at(out, rows, 1.0)
    return out


def blank_links(text: str) -> str:
    """The text with its links, e-mail addresses and handles blanked out, looked for as the normaliser looks for them
    (in the NFKC-folded text without invisible characters: «@\u200bivan», «＠ivan»)."""
    text = visible_nfkc(text)
    for pattern in LINK_PATTERNS:
        text = pattern.sub(" ", text)
    return text


def signal_matrix(texts: list[str], docs: list[Normalised], letters_without_links: bool = True) -> np.ndarray:
    """Return the moderator signals of a batch (rows) scaled to roughly 0..1, computed with numpy.

    With `letters_without_links`, the signals of the writing itself (letter shares, capitals, repeats, emoji, length)
    are computed on the NFKC-folded text without its links, e-mail addresses and handles (blank_links): else a Latin
    handle or link appended to a Russian insult lowers its Cyrillic share, and links appended to a Kazakh comment can
    route it to the Russian head. Long numbers and «!» are counted in the whole text (a phone inside a wa.me link is
    still a long number), the word count from the normalised words (a link is one word).
    """
    n = len(texts)
    raw = texts
    if letters_without_links:
        # Every text NFKC-folded, not only those with links: else a handle appended to «𝐭𝐮𝐩𝐲𝐞» would turn its
        # styled letters from symbols into Latin capitals.
        texts = [blank_links(t) if d.urls or d.handles or d.emails else visible_nfkc(t) for t, d in zip(texts, docs)]
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=n)
    codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
    row_of = np.repeat(np.arange(n), lengths)

    def per_row(mask):
        """Count of True positions per comment."""
        return np.bincount(row_of[mask], minlength=n).astype(np.float64)

    latin_upper = (codes >= 65) & (codes <= 90)
    cyr = (codes >= 0x400) & (codes <= 0x4FF)
    letters = per_row(latin_upper | ((codes >= 97) & (codes <= 122)) | cyr)
    caps = per_row(latin_upper | ((codes >= 0x400) & (codes <= 0x42F)))
    # Runs of 4+ digits (phones, prices, card numbers); a lone "10" says nothing about spam.
    long_numbers = np.minimum(_distinct_matches(_LONG_NUMBER_RE, raw, distinct=False), 3) / 3
    emoji = per_row(codes >= 0x2190)  # arrows, symbols, pictographs
    exclaim = np.fromiter((t.count("!") for t in raw), dtype=np.float64, count=n)
    kazakh = per_row(np.isin(codes, _KAZAKH))
    cyr_letters = per_row(cyr)
    same3 = (codes[:-2] == codes[1:-1]) & (codes[1:-1] == codes[2:]) & (codes[:-2] > 32) & (row_of[:-2] == row_of[2:])
    repeats = np.bincount(row_of[:-2][same3], minlength=n).astype(np.float64) if len(codes) > 2 else np.zeros(n)
    chars = np.maximum(lengths, 1).astype(np.float64)
    n_words = np.fromiter((max(len(d.words), 1) for d in docs), dtype=np.float64, count=n)
    per_doc = np.array(
        [
            (
                float(bool(d.urls)),
                min(len(d.urls), 5) / 5,
                float(d.handles > 0),
                float(d.phones > 0),
                float(d.emails > 0),
                float(d.spaced_runs > 0),
                d.mixed_words,
                float(d.cyrillic_text),
            )
            for d in docs
        ],
        dtype=np.float64,
    ).reshape(n, 8)
    joined = [" ".join(d.words) for d in docs]
    offers = np.minimum(_distinct_matches(_OFFER_RE, joined), 3) / 3
    contacts = np.minimum(_distinct_matches(_CONTACT_RE, joined), 3) / 3
    has_letters = letters > 3
    safe_letters = np.maximum(letters, 1)
    return np.column_stack(
        [
            per_doc[:, :6],
            per_doc[:, 6] / n_words,
            np.where(has_letters, caps / safe_letters, 0.0),
            repeats / chars,
            long_numbers,
            emoji / chars,
            np.minimum(exclaim, 5) / 5,
            cyr_letters / safe_letters,
            np.minimum(kazakh / safe_letters * 10, 1.0),
            np.log1p(chars) / 8,
            np.log1p(n_words) / 6,
            offers,
            contacts,
            # The script guess after undoing look-alikes: «Пpeдлaгaeм» spam is Russian, which the
            # raw letter shares above cannot tell; the spam model routes Russian comments on it.
            per_doc[:, 7],
        ]
    )
