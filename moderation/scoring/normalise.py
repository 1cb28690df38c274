"""Text normalisation for Russian and Kazakh comments as spammers and trolls write them.

The original text is kept for display; `normalise` returns the canonical word list that
feeds the features, so that «Пpeдлaгaeм», «д у р а к», «на.ху.й», «дууурак» and «suka»
all land on the same n-grams as their plain spellings, and so do «п*здец» and «с*ки» (masked.py).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from .masked import MASK_HINT_RE
from .masked import recover as recover_masked

# Placeholders live in the Private Use Area so no real text can collide with them and
# the look-alike / transliteration steps leave them alone.
URL_TOKEN = "\ue001"
EMAIL_TOKEN = "\ue002"
HANDLE_TOKEN = "\ue003"
PHONE_TOKEN = "\ue004"

URL_RE = re.compile(
    r"(?:https?://|www\.)\S+|\b[a-z0-9][a-z0-9\-]*\.(?:ru|com|net|org|kz|io|me|ly|info|biz|xyz|top|"
    r"online|site|shop|club|pro|su|рф|ua|by|uk|us|co|tk|cc|link|ltd|fr|de|be|gl|gg|to|tv)\b(?:/\S*)?",
    re.IGNORECASE,
)
# Every URL_RE match contains one of these; checking for it first skips most comments cheaply.
_URL_HINT_RE = re.compile(r"[a-z0-9\-]\.[a-zр]|www\.|://")
# Not inside a link: «https://editor.name@site.kz/…», «https://user:pass@…», «…?mail=ivan@mail.ru» are links.
EMAIL_RE = re.compile(r"(?<![\w.+\-/:=?&%#~])[\w.+-]+@[\w-]+\.[\w.]+\b")
HANDLE_RE = re.compile(r"(?<![\w@])@[A-Za-z_][A-Za-z0-9_]{3,}")
# «@ k z _ u s d t», «@.k.z._.u.s.d.t»: a handle split into characters by one separator each, as «д у р а к» is.
# Its first character is a letter or «_», as a handle's is: «@ 8 7 0 1 …» stays a phone number, «@ 2 0 2 6» a year.
SPACED_HANDLE_RE = re.compile(
    r"(?<![\w@])@[ .\-*,|/\\]?[A-Za-z_][ .\-*,|/\\](?:[A-Za-z0-9_][ .\-*,|/\\]){2,}[A-Za-z0-9_](?![\w*])"
)
PHONE_RE = re.compile(r"(?<!\w)\+?\d[\d\s().\-]{8,}\d(?!\w)")
# What stands for an address, a link or a handle, in the order the normaliser reads them: an address before links, so
# that its domain is not taken for a link («info@tengrinews.kz» is none), a spaced handle before a plain one. The
# writing signals blank them in this order (signals.blank_links), explanations name them (predict._SPAN_RE).
LINK_PATTERNS = (EMAIL_RE, URL_RE, SPACED_HANDLE_RE, HANDLE_RE)
# An address (group 1) or a link, the address first: the site's link rules count the links (services/rules).
ADDRESS_OR_LINK_RE = re.compile(f"({EMAIL_RE.pattern})|{URL_RE.pattern}", re.IGNORECASE)

# Kazakh-only letters as readers without a Kazakh keyboard type them («жаксы» for «жақсы», «онбаган» for «оңбаған»):
# the n-grams of new versions (features.fold_kazakh_letters) and the site's word lists read both spellings as one word.
KAZAKH_LETTERS = "әғқңөұүһі"  # lower case; normalise() lowers the words
KAZAKH_LETTER_RE = re.compile(f"[{KAZAKH_LETTERS}]")
KAZAKH_FOLD = str.maketrans(KAZAKH_LETTERS, "агкноуухи")


def fold_kazakh(word: str) -> str:
    """The word with its Kazakh-only letters as typed on a Russian keyboard (ң as н, қ as к, ...)."""
    # str.translate is slow on Cyrillic: most words have none of these letters, and the search is cheap.
    return word.translate(KAZAKH_FOLD) if KAZAKH_LETTER_RE.search(word) else word


# Invisible characters used to split words so that filters miss them.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u034f"), None)

_CYR_LETTERS = "абвгдежзийклмнопрстуфхцчшщъыьэюяёәғқңөұүһі"
# Latin / Greek letters and digits that stand for a Cyrillic letter inside a Cyrillic word.
_TO_CYR = str.maketrans(
    {
        "a": "а",
        "b": "в",
        "c": "с",
        "e": "е",
        "h": "н",
        "k": "к",
        "m": "м",
        "n": "п",
        "o": "о",
        "p": "р",
        "r": "г",
        "t": "т",
        "u": "и",
        "x": "х",
        "y": "у",
        "0": "о",
        "3": "з",
        "4": "ч",
        "6": "б",
        "@": "а",
    }
)
# Small capitals and Greek letters are look-alikes wherever they appear in our comments.
_FOREIGN_TO_CYR = str.maketrans(
    {
        "ᴀ": "а",
        "ʙ": "в",
        "ᴄ": "с",
        "ᴅ": "д",
        "ᴇ": "е",
        "ɢ": "г",
        "ʜ": "н",
        "ɪ": "і",
        "ᴋ": "к",
        "ʟ": "л",
        "ᴍ": "м",
        "ɴ": "н",
        "ᴏ": "о",
        "ᴘ": "р",
        "ᴩ": "р",
        "ʀ": "р",
        "ꜱ": "с",
        "ᴛ": "т",
        "ᴜ": "и",
        "ᴠ": "в",
        "ᴡ": "ш",
        "ʏ": "у",
        "ᴢ": "з",
        "ᴦ": "г",
        "ᴨ": "п",
        "ᴫ": "л",
        "α": "а",
        "β": "в",
        "γ": "у",
        "δ": "д",
        "ε": "е",
        "η": "п",
        "ι": "і",
        "κ": "к",
        "λ": "л",
        "μ": "м",
        "ν": "v",
        "ο": "о",
        "π": "п",
        "ρ": "р",
        "σ": "о",
        "ς": "с",
        "τ": "т",
        "υ": "и",
        "φ": "ф",
        "χ": "х",
        "ω": "ш",
    }
)
_FOREIGN_RE = re.compile("[" + "".join(chr(c) for c in _FOREIGN_TO_CYR) + "]")
_INVISIBLE_RE = re.compile("[" + "".join(chr(c) for c in _INVISIBLE) + "]")
# The reverse, for English spam that hides Latin words behind Cyrillic letters.
_TO_LAT = str.maketrans(
    {
        "а": "a",
        "в": "b",
        "с": "c",
        "е": "e",
        "н": "h",
        "к": "k",
        "м": "m",
        "о": "o",
        "р": "p",
        "т": "t",
        "х": "x",
        "у": "y",
        "і": "i",
    }
)
_LOOKALIKE_LATIN = set("abcehkmnoprtuxy")
# Longest first: the regex alternation below tries them in this order.
_TRANSLIT = {
    "shch": "щ",
    "sch": "щ",
    "sh": "ш",
    "ch": "ч",
    "zh": "ж",
    "kh": "х",
    "ts": "ц",
    "ya": "я",
    "yu": "ю",
    "yo": "е",
    "ye": "е",
    "ja": "я",
    "ju": "ю",
    "jo": "е",
    "a": "а",
    "b": "б",
    "v": "в",
    "g": "г",
    "d": "д",
    "e": "е",
    "z": "з",
    "i": "и",
    "j": "й",
    "y": "ы",
    "k": "к",
    "l": "л",
    "m": "м",
    "n": "н",
    "o": "о",
    "p": "п",
    "r": "р",
    "s": "с",
    "t": "т",
    "u": "у",
    "f": "ф",
    "h": "х",
    "c": "ц",
    "w": "в",
    "x": "кс",
    "q": "к",
    "'": "ь",
}
_TRANSLIT_RE = re.compile("|".join(sorted(_TRANSLIT, key=len, reverse=True)))

_DIGIT_RE = re.compile(r"\d")
_DIGIT_NEAR_LETTER_RE = re.compile(r"[^\W\d_][0346]|[0346][^\W\d_]")
_CYR_RE = re.compile(f"[{_CYR_LETTERS}]")
_CYR_WORD_RE = re.compile(f"(?<![\\w])[{_CYR_LETTERS}]+(?![\\w])")
_LAT_RE = re.compile(r"[a-z]")
_CYR_ONLY_RE = re.compile("[бгдежзийлпфцчшщъыьэюяәғқңөұүһ]")
_LAT_ONLY_RE = re.compile("[dfgijlqsvwz]")
# «д у р а к», «д.у.р.а.к»: three or more single letters joined by one separator each.
_SPACED_RE = re.compile(r"(?<![\w*])(?:[^\W\d_][ .\-_*,|/\\]){2,}[^\W\d_](?![\w*])")
_ONE_LETTER_WORDS = set("вксуоияa")
_SPACED_SEP_RE = re.compile(r"[ .\-_,|/\\]")
# In-word separators: «на.ху.й», «за-е-бал». Segments of at most three letters are joined.
_INWORD_SEP_RE = re.compile(r"[.\-_~|/\\+]+")
_SEGMENTED_RE = re.compile(r"(?<!\S)(?:[\w*]{1,3}[.\-_~|/\\+]+)+[\w*]{1,3}(?=[\s!?,;:)]|$)")
_STRETCH_RE = re.compile(r"(\D)\1{2,}")
_TOKEN_RE = re.compile(r"[\w*\ue001-\ue0ff]+|[$€₽£%]")
_MIXED_DIGIT_RE = re.compile(r"(?<=[^\W\d_])[0346](?![0-9])|(?<![0-9])[0346](?=[^\W\d_])")


@dataclass
class Normalised:
    """The canonical words of a comment plus the signals found on the way."""

    words: list[str]
    urls: list[str] = field(default_factory=list)
    handles: int = 0
    phones: int = 0
    emails: int = 0
    mixed_words: int = 0
    spaced_runs: int = 0
    cyrillic_text: bool = False


def visible_nfkc(text: str) -> str:
    """The text NFKC-folded (full-width and styled letters as plain ones: 𝐝𝐮𝐫𝐚𝐤, ｄｕｒａｋ, «＠») without invisible
    characters, case kept: what links, addresses and handles are looked for in."""
    text = unicodedata.normalize("NFKC", text)
    # str.translate walks every character; the regex guard makes the common case nearly free.
    return text.translate(_INVISIBLE) if _INVISIBLE_RE.search(text) else text


def _fold(text: str) -> tuple[str, int]:
    # NFKC does not fold small capitals or Greek, which spammers use the same way («Пᴏмᴏгу», «нужнο»);
    # ё is written as е by most people anyway.
    folded = visible_nfkc(text).lower()
    foreign = 0
    if _FOREIGN_RE.search(folded):
        # Nobody types small capitals or Greek letters inside Russian words by accident: such a
        # word counts as mixed-script, a spam signal, like a Latin look-alike would.
        foreign = sum(1 for word in folded.split() if _FOREIGN_RE.search(word))
        folded = folded.translate(_FOREIGN_TO_CYR)
    return folded.replace("ё", "е"), foreign


def _fix_token(token: str, cyrillic_text: bool) -> tuple[str, bool]:
    """Undo look-alike letters and transliteration in one token; report whether it mixed scripts."""
    has_cyr = _CYR_RE.search(token) is not None
    has_lat = _LAT_RE.search(token) is not None
    if has_cyr and has_lat:
        # A letter with no twin in the other script (б, д, л / s, f, l) decides the word's script.
        if _CYR_ONLY_RE.search(token) or (not _LAT_ONLY_RE.search(token) and cyrillic_text):
            return _MIXED_DIGIT_RE.sub(lambda m: m.group().translate(_TO_CYR), token).translate(_TO_CYR), True
        return token.translate(_TO_LAT), True
    if has_cyr:
        n_digits = len(_DIGIT_RE.findall(token)) if _DIGIT_RE.search(token) else 0
        if n_digits and n_digits < len(token) - n_digits:
            fixed = _MIXED_DIGIT_RE.sub(lambda m: m.group().translate(_TO_CYR), token)
            return fixed, fixed != token
        return token, False
    if has_lat and cyrillic_text:
        # A Latin word inside a Russian comment: «cyka» is look-alike writing, «suka» transliteration.
        if set(token) <= _LOOKALIKE_LATIN:
            return token.translate(_TO_CYR), True
        return _TRANSLIT_RE.sub(lambda m: _TRANSLIT[m.group()], token), False
    return token, False


def _join_spaced(match: re.Match) -> str:
    joined = _SPACED_SEP_RE.sub("", match.group())
    if joined[0] in _ONE_LETTER_WORDS and len(joined) >= 5:
        # «в к р и п т е» is «в крипте»: a one-letter preposition before a spaced word cannot
        # be told from the word's first letter, so both readings feed the features.
        return f"{joined} {joined[0]} {joined[1:]}"
    return joined


def normalise(text: str, cyrillic_text: bool | None = None) -> Normalised:
    """Return the canonical word list of a comment and the moderator signals met on the way.

    `cyrillic_text` overrides the script guess, for scoring a fragment of a longer comment.
    """
    folded, foreign = _fold(text)
    emails = 0
    if "@" in folded:
        # Before links (LINK_PATTERNS' order): else «info@tengrinews.kz» was a link and the word «info» («инфо»).
        folded, emails = EMAIL_RE.subn(f" {EMAIL_TOKEN} ", folded)
    urls = URL_RE.findall(folded) if _URL_HINT_RE.search(folded) else []
    if urls:
        folded = URL_RE.sub(f" {URL_TOKEN} ", folded)
    if "@" in folded:
        folded, spaced_handles = SPACED_HANDLE_RE.subn(f" {HANDLE_TOKEN} ", folded)
        folded, handles = HANDLE_RE.subn(f" {HANDLE_TOKEN} ", folded)
        handles += spaced_handles
    else:
        handles = spaced_handles = 0
    folded, phones = PHONE_RE.subn(f" {PHONE_TOKEN} ", folded)
    if MASK_HINT_RE.search(folded):
        folded = recover_masked(folded)
    folded, spaced = _SPACED_RE.subn(_join_spaced, folded)
    spaced += spaced_handles
    folded = _STRETCH_RE.sub(r"\1", folded)

    has_latin = _LAT_RE.search(folded) is not None
    if cyrillic_text is None:
        # Only letters of wholly Cyrillic words count here: one look-alike word must not make
        # an English text "Russian", while «ты suka blyat» is a Russian comment.
        if has_latin:
            pure_cyr = sum(map(len, _CYR_WORD_RE.findall(folded)))
            cyrillic_text = pure_cyr > 0 and len(_LAT_RE.findall(folded)) <= 5 * pure_cyr
        else:
            cyrillic_text = _CYR_RE.search(folded) is not None
    if _SEGMENTED_RE.search(folded):
        folded = _SEGMENTED_RE.sub(lambda m: _INWORD_SEP_RE.sub("", m.group()), folded)
    tokens = _TOKEN_RE.findall(folded)
    mixed = foreign
    if not cyrillic_text and not _CYR_RE.search(folded):
        # No Cyrillic letter and no Russian context (English text): no token has anything to undo.
        words = tokens
    elif has_latin or (_DIGIT_RE.search(folded) and _DIGIT_NEAR_LETTER_RE.search(folded)):
        words = []
        for token in tokens:
            if token[0] >= "\ue000" or token.isdigit():
                words.append(token)
                continue
            fixed, was_mixed = _fix_token(token, cyrillic_text)
            mixed += was_mixed
            words.append(fixed)
    else:
        words = tokens  # the common case: plain Cyrillic, nothing to undo word by word
    if "_" in folded:
        words = [w.strip("_") for w in words]
        words = [w for w in words if w]
    return Normalised(words, urls, handles, phones, emails, mixed, spaced, cyrillic_text)


def normalise_text(text: str) -> str:
    """Return the normalised form of a comment as one space-separated string (for rules and word lists)."""
    return " ".join(normalise(text).words)


def domain_of(url: str) -> str:
    """Return the host of a URL without scheme, `www.` or port, for domain features and rules."""
    host = re.sub(r"^(?:https?://)?(?:www\.)?", "", url.lower()).split("/", 1)[0]
    return host.split(":", 1)[0].strip(".,;!?)")
