"""Mat and insults with letters hidden behind symbols: «п*здец», «с*ки», «на@@бут», «е**нутый».

Readers who swear in the open write «пиздец»; readers who know a filter is watching write «п*здец», and the
n-grams of the masked form are ones the models rarely met. A word whose letters are interrupted by a run of
`* @ # $ %` is recovered when the hidden letters lie inside one root of the lexicon below, with a letter of that
root visible on each side of them (or, for «х», a known prefix before them: «по*уй»), at most five letters follow the
root, and the result passes `is_obscene`; any other masked word is left as it was. So «з*мечательно», «гов*рят» or
«бл@го» never turn into anything, and the lexicon need not know every form of a word: the root fills the gap, the
visible letters keep the form.

Dots are not read as masks, though «зае...али» is one: «М...да», «О...я тоже так думал», «У...на нашей улице» are
ordinary Russian, and letters around an ellipsis fill into mat far too easily («муда», «охуя», «уебна»).
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from itertools import product

import snowballstemmer

_LETTERS = "абвгдежзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі"
# A word with one or two runs of mask characters between its letters (recover leaves those over MAX_WORD_LENGTH).
MASKED_WORD_RE = re.compile(f"(?<![\\w*@#$%])[{_LETTERS}]+(?:[*@#$%]+[{_LETTERS}]+){{1,2}}(?![\\w*@#$%])")
# Every masked word has a mask character right before a letter: a cheap first test that most comments fail.
MASK_HINT_RE = re.compile(f"[*@#$%][{_LETTERS}]")
_MASK_RUN_RE = re.compile(r"[*@#$%]+")
# What one comment may cost: reading a masked word tries every root at every place (about 0.2-0.8 ms for a word
# no root explains), so longer words are left alone, and so are the distinct masked words after the first forty.
MAX_WORD_LENGTH = 32
MAX_MASKED_WORDS = 40

# Mat as whole words (lower case, ё written е): a root with the prefixes it takes. Word starts are anchored so that
# «застрахуйте», «себе», «мудрый», «Херсон», «мандат» and «педикюр» stay innocent.
_OBSCENE_RE = re.compile(
    r"^(?:на|по|от|за|до|об|вы|у|при|пере|раз|рас|ни|о|а)?ху[йеяию]"
    r"|пизд|пезд"
    r"|^(?:за|на|по|от|до|об|вы|у|при|пере|раз|рас|из|под|про|долбо|съ|въ)?ъ?еб(?:[аулнийеыочш]|$)"
    r"|^(?:вы|раз|за|на|по)?бля"
    r"|^муд[аоиел]"
    r"|^(?:за|по|на|от)?дроч"
    r"|^пид[оа]?р|^педрил|^педик(?:и|а|ов|у|ом|ами)?$"
    r"|^г[ао]ндон|^шлюх|^залуп"
    r"|^сук(?:а|и|у|ой|ам|ами|ах)$|^суч(?:к|ар|ий|ья|ье|ьи)"
    r"|^г[ао]вн"
    r"|^(?:на|по|ни)?хер(?:$|н|ов|ом|а$)"
)
# Insults people mask as they mask mat: these forms, and other words with the same Snowball stem when it has four
# letters or more («дебил» stems to «деб», which would also take «дебо»).
_INSULTS = (
    "дебил дебилы идиот идиоты кретин придурок придурки урод уроды уродина ублюдок ублюдки выродок выродки "
    "дегенерат дегенераты мразь мрази тварь твари сволочь сволочи скотина гнида гниды падла паскуда подонок "
    "подонки дерьмо чмо лох лохи лошара быдло даун дауны дурак дураки тупица тупой тупые дармоед дармоеды"
).split()
_STEMMER = snowballstemmer.stemmer("russian")
_STEMMER_LOCK = threading.Lock()  # a Snowball stemmer keeps per-call state on the instance
_INSULT_STEMS = frozenset(stem for stem in map(_STEMMER.stemWord, _INSULTS) if len(stem) >= 4) | frozenset(_INSULTS)
# Prefixes after which the hidden letter may be a root's first one, «х» («по*уй», «на*уй»).
_PREFIXES = frozenset("на по от за до об вы у при пере раз рас ни о а".split())
MAX_ENDING = 5  # letters after the root: «заеб|али», «выебн|уться», not «у@бабушки» read «уеб|абушки»
# The letters a mask may stand for are read off these roots, longest first («пиздец» before «пидор» for
# «п****ц»), ties in the order written.
_ROOTS = sorted(
    dict.fromkeys(
        "пиздец пизде пизд хуй хуе хуя хую хуи хер херн херов ебанут ебнут еба ебу ебл ебн ебо ебе ебы ебан ебал "
        "заеб наеб выеб уеб блядь бля бляд блят мудак мудил мудо муда дроч пидор пидр педрил гандон гондон "
        "шлюх залуп сука суки суку сучк сучар говн гавн хуйн хуев ебнул заебал проеб опизд долбоеб долбаеб выебн "
        "наебыв уебан".split()
        + _INSULTS
    ),
    key=len,
    reverse=True,
)


def is_obscene(word: str) -> bool:
    """True when a whole lower-case word is mat or an insult of the lexicon."""
    if _OBSCENE_RE.search(word) or word in _INSULT_STEMS:
        return True
    with _STEMMER_LOCK:
        return _STEMMER.stemWord(word) in _INSULT_STEMS


def _hidden_lengths(run: str) -> tuple[int, ...]:
    # «*» hides one letter, «**» one or two («на**бут», «е**нутый»), longer runs their own count or one fewer («б***ь»).
    n = len(run)
    return (1,) if n == 1 else (1, 2) if n == 2 else (n, n - 1)


@lru_cache(maxsize=4096)
def unmask(word: str) -> str | None:
    """The obscene or insulting word behind a masked one, or None when no root of the lexicon explains it."""
    parts = _MASK_RUN_RE.split(word)
    runs = _MASK_RUN_RE.findall(word)
    if not runs or len(runs) > 2 or len(word) > MAX_WORD_LENGTH:
        return None
    for lengths in product(*map(_hidden_lengths, runs)):
        # The word with each hidden letter as "?": a root must cover every "?" and agree with every visible letter.
        skeleton = parts[0] + "".join("?" * n + part for n, part in zip(lengths, parts[1:]))
        holes = [i for i, c in enumerate(skeleton) if c == "?"]
        for root in _ROOTS:
            first = max(0, holes[-1] - len(root) + 2, len(skeleton) - len(root) - MAX_ENDING)
            for start in range(first, min(holes[0], len(skeleton) - len(root)) + 1):
                if start == holes[0] and not (root[0] == "х" and skeleton[:start] in _PREFIXES):
                    continue  # the root's first letter hidden: only «х» after a prefix («по*уй», not «на*борот»)
                window = skeleton[start : start + len(root)]
                if all(c == "?" or c == r for c, r in zip(window, root)):
                    filled = skeleton[:start] + root + skeleton[start + len(root) :]
                    if is_obscene(filled):
                        return filled
    return None


def recover(text: str) -> str:
    """`text` (lower case) with its masked obscene words written out; other masked words as they were."""
    seen: set[str] = set()

    def one(match: re.Match) -> str:
        word = match.group()
        if len(word) > MAX_WORD_LENGTH:
            return word
        if word not in seen:
            if len(seen) >= MAX_MASKED_WORDS:
                return word
            seen.add(word)
        return unmask(word) or word

    return MASKED_WORD_RE.sub(one, text)
