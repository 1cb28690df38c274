"""Word lists as newsrooms keep them: one entry catches its inflected and disguised forms, whole words only.

An entry is normalised like a comment (look-alike letters, spacing, stretching undone) and each of
its words reduced to a key: the Snowball stem for Russian and English words, so «дурак» catches
«дураки» and «ДУРАКОВ», and the word itself as a prefix for Kazakh words (suffixes stack there:
«ақымақ» catches «ақымақтар»), with its Kazakh-only letters read as on a Russian keyboard, so «оңбаған» catches
«онбагандар» too. A comment's words are compared whole, never as substrings, so «ху» never fires inside
«застрахуйте».
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import snowballstemmer

from .normalise import KAZAKH_LETTER_RE, fold_kazakh, normalise

_STEMMERS = {"ru": snowballstemmer.stemmer("russian"), "en": snowballstemmer.stemmer("english")}
_CYRILLIC_RE = re.compile("[а-яе]")
_LATIN_RE = re.compile("[A-Za-z]")
# The original text's words and disguised runs («д у р а к», links, handles): the units we report.
_SPAN_RE = re.compile(
    r"(?<![\w*])(?:[^\W\d_][ .\-_*,|/\\]){2,}[^\W\d_](?![\w*])"
    r"|[^\s.,;:!?()\[\]{}«»\"“”]+(?:[.\-_*][^\s.,;:!?()\[\]{}«»\"“”]+)*"
)
KAZAKH_MIN_PREFIX = 4  # shorter Kazakh entries must match whole, or they would fire inside other words


def _stem(word: str) -> str:
    stemmer = _STEMMERS["ru"] if _CYRILLIC_RE.search(word) else _STEMMERS["en"]
    return stemmer.stemWord(word)


def _key(word: str) -> tuple[frozenset, bool]:
    """(keys, prefix?) of one entry word: its stem and itself, or the word alone as a Kazakh prefix.

    The word itself is a key too because Snowball cuts some nouns like adjectives: «аким» stems to
    «ак» while «акимы» and «акимов» stem to «аким».
    """
    if KAZAKH_LETTER_RE.search(word):
        return frozenset([fold_kazakh(word)]), len(word) >= KAZAKH_MIN_PREFIX
    return frozenset([_stem(word), word]), False


@dataclass(frozen=True)
class Entry:
    """One word-list entry, compiled: its text as the admin wrote it and the keys of its words."""

    text: str
    keys: tuple[tuple[frozenset, bool], ...]
    tag: object = None  # the caller's handle (a database id, the list's kind)


@dataclass(frozen=True)
class Hit:
    """An entry found in a text: the entry and the original span that matched."""

    entry: Entry
    span: str
    start: int
    end: int


def compile_entry(text: str, tag=None) -> Entry | None:
    """Compile an entry; None when nothing of it is left after normalisation."""
    words = [w for w in normalise(text).words if not w.isdigit() or len(w) > 1]
    if not words:
        return None
    return Entry(text.strip(), tuple(_key(w) for w in words), tag)


def _tokens(text: str, cyrillic: bool | None = None):
    """The text's normalised words, each as its readings, with the original span it came from, in order.

    A Latin word inside a Russian comment is read both ways: «suka» as transliteration, «casino» as itself.
    """
    if cyrillic is None:
        cyrillic = normalise(text).cyrillic_text
    for match in _SPAN_RE.finditer(text):
        span = match.group()
        words = normalise(span, cyrillic_text=cyrillic).words
        latin = normalise(span, cyrillic_text=False).words if cyrillic and _LATIN_RE.search(span) else words
        if len(latin) != len(words):
            latin = words
        for word, as_latin in zip(words, latin):
            if word[0] < "\ue000":  # skip link/e-mail/phone placeholders
                word = fold_kazakh(word)  # compared as Kazakh entries' keys are (_key)
                yield {word, as_latin}, match.start(), match.end()


def _matches(key: tuple[frozenset, bool], readings: set, stems: dict) -> bool:
    values, prefix = key
    for word in readings:
        if prefix:
            if any(word.startswith(value) for value in values):
                return True
            continue
        if word not in stems:
            stems[word] = _stem(word)
        if stems[word] in values or word in values:
            return True
    return False


def find(entries: list[Entry], text: str, cyrillic: bool | None = None) -> list[Hit]:
    """Every entry found in the text, with its original span; whole words only.

    `cyrillic` is the text's script guess (Normalised.cyrillic_text) when the caller has it already.
    """
    if not entries or not text:
        return []
    tokens = list(_tokens(text, cyrillic))
    stems: dict[str, str] = {}
    hits = []
    for entry in entries:
        size = len(entry.keys)
        for i in range(len(tokens) - size + 1):
            if all(_matches(entry.keys[j], tokens[i + j][0], stems) for j in range(size)):
                start, end = tokens[i][1], tokens[i + size - 1][2]
                hits.append(Hit(entry, text[start:end], start, end))
                break
    return hits
