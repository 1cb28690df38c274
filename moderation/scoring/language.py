"""A cheap guess of a comment's language for the moderators' filters: Kazakh, Russian or English."""

import re

_KAZAKH = re.compile(r"[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")
_CYRILLIC = re.compile(r"[а-яёА-ЯЁ]")
_LATIN = re.compile(r"[a-zA-Z]")
KAZAKH_SHARE = 0.03  # Kazakh-only letters in over 3% of the Cyrillic letters: Kazakh


def guess_language(text: str) -> str:
    """'kk', 'ru' or 'en' by the letters used; '' when the text has no letters of these scripts."""
    kazakh = len(_KAZAKH.findall(text))
    cyrillic = len(_CYRILLIC.findall(text)) + kazakh
    latin = len(_LATIN.findall(text))
    if cyrillic == 0 and latin == 0:
        return ""
    if cyrillic >= latin:
        # Look-alike spam («Пpeдлaгaeм») mixes scripts but is mostly Cyrillic, so it stays Russian.
        return "kk" if kazakh > KAZAKH_SHARE * cyrillic else "ru"
    return "en"
