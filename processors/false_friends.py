"""Common words of a language that the lexicon reads as another language's name.

English "same" is an inflected form of Samoa in some dictionary, "Since" one of China, German
"Kino" and "Sinn" are too, Croatian "samo" (only) is a name of Samoa. The lexicon already takes
such names capitalised only, which settles nothing at the start of a sentence, nor in German or
Luxembourgish, which capitalise every noun. ``data/false_friends.tsv`` (made by
``scripts/make_false_friends.py`` from word-frequency lists, CLDR and simplemma; see its
docstring for the rule) lists them per tip language; ``counts`` says whether one, as written
where it stands, still names the thing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from typing import Final

# Languages that capitalise every noun: a capital there says nothing about a name.
NOUNS_CAPITALISED: Final = frozenset({"de", "lb"})


@cache
def false_friends() -> Mapping[str, Mapping[str, bool]]:
    """Tip language -> folded word -> whether the lexicon has it only as an inflected form."""
    text = resources.files("processors.data").joinpath("false_friends.tsv").read_text("utf-8")
    table: dict[str, dict[str, bool]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        language, word, shape, _ = line.split("\t")
        table.setdefault(language, {})[word] = shape == "form"
    return table


def counts(language: str, folded: str, written: str, opens_sentence: Callable[[], bool]) -> bool:
    """Whether a lexicon match on ``folded`` (``written`` as in the tip) names something in a
    tip of ``language``: a false friend only when capitalised inside a sentence, and an
    inflected-form false friend never in a language that capitalises nouns. ``opens_sentence``
    is asked only for a false friend (it costs a search of the text)."""
    shape = false_friends().get(language, {}).get(folded)
    if shape is None:
        return True
    if shape and language in NOUNS_CAPITALISED:
        return False
    return written[:1].isupper() and not opens_sentence()
