"""normalise: make a raw tip's text canonical and find the objects it refers to.

What happens to the subject and body, in order:

1. HTML (only when a known tag is present) becomes visible text with its line structure.
2. Mojibake is repaired with ftfy, configured so that correct text is never changed: no quote
   uncurling, no width or ligature folding, no HTML unescaping (step 1 owns HTML).
3. Unicode NFC; invisible control and zero-width characters go, the tipster's letters stay.
4. Whitespace: one space inside a line, no more than one blank line between paragraphs.
5. Body only: quoted reply history, forwarding boilerplate and signatures are removed
   (``processors.text_mail``); a subject loses its "Re:"/"AW:"/"Fwd:" prefixes.

``object_refs`` keeps the adapter's ``object_ref`` first, then the refs it already had, then the
ones named in the cleaned subject and body ("object 123", "Objekt Nr. 123", "#4521", object page
URLs); only when the tip's own text names none is the removed reply history searched, because a
reply to an appeal often names its object only in the quoted appeal.

The stage is pure and idempotent: ``normalise(normalise(t)) == normalise(t)``. It never reads or
changes ``channel_meta``.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Final

import ftfy

from processors.text_html import html_to_text, looks_like_html
from processors.text_mail import strip_history, strip_signature
from schemas import MAX_BODY_CHARS, MAX_SUBJECT_CHARS, RawTip

logger = logging.getLogger(__name__)

_FTFY_CONFIG: Final = ftfy.TextFixerConfig(
    unescape_html=False,
    remove_terminal_escapes=True,
    fix_encoding=True,
    restore_byte_a0=True,
    replace_lossy_sequences=True,
    decode_inconsistent_utf8=True,
    fix_c1_controls=True,
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=True,
    fix_surrogates=True,
    remove_control_chars=True,
    normalization="NFC",
    explain=False,
)
# ftfy's own mojibake test costs ~80 µs on a 300-character tip; these two prefilters cost a few
# µs and only let through text that could be mojibake: UTF-8 lead bytes read as Latin-1/cp1252
# ("Ã¼", "â€™", "ðŸ"), UTF-8 Cyrillic read as cp1251 ("РїСЂ"), C1 controls, escape sequences.
# ftfy still makes the decision, so a false alarm here costs time, never text. The first test
# looks for the (rarer) second character of such a pair; the second checks for the pair.
_MOJIBAKE_CHAR: Final = re.compile(
    "[\u0080-\u00bf\u00c3\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"
    "\u0402-\u040f\u0452-\u045f\u0490\u0491\x1b]"
)
_MOJIBAKE_PAIR: Final = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6"
    "\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
    "|\u00c3[ \u00a0]"
    "|[\u0420\u0421\u0432][\u0402-\u040f\u0452-\u045f\u0490\u0491\u00a0-\u00bf\u2013-\u2122]"
    "|[\u0080-\u009f\x1b]"
)
# Invisible characters that carry no letter: C0 controls (not \t, \n), soft hyphen,
# zero-width space, word joiner, BOM, bidi embeddings/isolates (text-spoofing tools).
# ZWJ/ZWNJ stay: they change how Persian, Indic scripts and emoji read.
_INVISIBLE: Final = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f\u00ad\u200b\u2060\ufeff\u202a-\u202e\u2066-\u2069]"
)
# C1 controls go only after ftfy has seen them: in UTF-8 read as Latin-1 they are the
# evidence it needs ("Ã\x9f" is "ß").
_C1: Final = re.compile("[\x80-\x9f]")
_FTFY_ROUNDS: Final = 4
_LINE_BREAKS: Final = re.compile("[\r\u2028\u2029\x85\x0b\x0c\x1c-\x1e]")
# Runs of horizontal whitespace become one space. A lone " " is left out of the pattern: replacing
# it by itself cost a third of the stage (one match per word).
_SPACES: Final = re.compile(
    "[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]{2,}"
    "|[\t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]"
)
_ANY_SPACE: Final = re.compile(r"\s+")
_SUBJECT_PREFIX: Final = re.compile(
    r"^(?:(?:re|fwd?|aw|wg|tr|rv|r|i|odp|pd|antw|doorst|sv|vs|vl|enc|res|rif|ynt|ilt)"
    r"\s?(?:\[\d+\]|\(\d+\))?\s?:\s*)+",
    re.IGNORECASE,
)

# --- object references -------------------------------------------------------------------------

_MAX_REFS: Final = 20
# Quoted history that names more objects than this is a newsletter or a list, not "the" object.
_MAX_HISTORY_REFS: Final = 3
_OBJECT_WORD: Final = (
    r"objects?|objekte?|objekts|objets?|obiekt(?:y|u|em)?|objetos?|oggett[oi]|voorwerp(?:en)?"
    r"|objektet|objekti|objektum|obiectul|obiect"
)
_OBJECT_STEMS: Final = ("obj", "obie", "ogget", "voorwerp")
_NUMBER_WORD: Final = (
    r"#|nr\.?|no\.?|n[º°o]\.?|num(?:ber|mer|éro|ero)?\.?|nummer|numer|número|numero|id|ref\.?"
)
# Not a decimal ("12.5 cm"), a date ("12/05") or the start of a longer token ("12b").
_REF_NUMBER: Final = r"\d{1,10}(?!\w|[.,:/]\d)"
_TEXT_REF: Final = re.compile(
    rf"\b(?:{_OBJECT_WORD})[\s:-]*(?:(?:{_NUMBER_WORD})[\s:-]*)?#?"
    rf"(?P<first>{_REF_NUMBER})"
    rf"(?P<more>(?:\s*(?:,|&|\band\b|\bund\b|\bet\b|\by\b|\be\b|\bi\b|\ben\b|\bor\b|\boder\b|\bou\b)"
    rf"\s*#?{_REF_NUMBER})*)"
    r"(?!\s*(?:x\b|mal\b|times\b|fois\b|veces\b|volte\b|razy\b|keer\b|gånger\b|€|eur\b|euro))",
    re.IGNORECASE,
)
# "#4521" alone: at least two digits ("#1 best seller", "#5 in Books" are ranks), not part of a
# URL fragment, an HTML entity or a word, not a year hashtag ("#2024"), and not a rank phrase.
_HASH_REF: Final = re.compile(
    r"(?<![\w&#/?=])#(?!(?:19|20)\d\d\b)(?P<first>\d{2,10})(?![\w%])"
    r"(?!\s*(?:best|bestseller|top|most|seller|rated|hit)\b)",
    re.IGNORECASE,
)
_URL: Final = re.compile(r"https?://[^\s<>\"'()\[\]{}]+", re.IGNORECASE)
_URL_REF: Final = re.compile(
    rf"(?:/(?:{_OBJECT_WORD}|o)/(?P<path>\d{{1,10}})(?=[/?#.\-_]|$)"
    r"|[?&](?:object|object_?id|objectid|obj|o)=(?P<query>\d{1,10})(?=[&#]|$))",
    re.IGNORECASE,
)
_DIGITS: Final = re.compile(r"\d+")


def _tidy(text: str, *, single_line: bool) -> str:
    """Line breaks, invisible characters and whitespace (step 4)."""
    text = _INVISIBLE.sub("", _LINE_BREAKS.sub("\n", text.replace("\r\n", "\n")))
    if single_line:
        return _ANY_SPACE.sub(" ", text).strip()
    return "\n".join(line.strip() for line in _SPACES.sub(" ", text).split("\n"))


def _fix_text(text: str, *, single_line: bool = False) -> str:
    """Steps 1-4 above. Whitespace is tidied before ftfy runs because ftfy judges each line on
    its own: it must see the same lines on a second pass, or normalise is not idempotent."""
    if looks_like_html(text):
        text = html_to_text(text)
    text = _tidy(text, single_line=single_line)
    if text.isascii():
        return text
    if _MOJIBAKE_CHAR.search(text) and _MOJIBAKE_PAIR.search(text):
        # Removing the C1 controls ftfy left can reveal new mojibake ("\x8dÂ\x80" -> "Â€"), so
        # repeat to a fixed point; real text settles after the first round.
        for _ in range(_FTFY_ROUNDS):
            fixed = _tidy(_C1.sub("", ftfy.fix_text(text, _FTFY_CONFIG)), single_line=single_line)
            if fixed == text:
                break
            text = fixed
    elif _C1.search(text):
        text = _tidy(_C1.sub("", text), single_line=single_line)
    if not text.isascii():
        # After the invisible characters are gone: removing one can bring a letter and a
        # combining mark together.
        text = unicodedata.normalize("NFC", text)
    return text


def _clean_body(text: str) -> tuple[str, str]:
    """Return ``(body, removed_history)``."""
    lines = _fix_text(text).split("\n")
    lines, removed = strip_history(lines)
    lines = strip_signature(lines)
    # strip_history/strip_signature already keep at most one blank line between paragraphs.
    body = "\n".join(lines).strip()
    return body[:MAX_BODY_CHARS].rstrip(), "\n".join(removed)


def _clean_subject(text: str) -> str:
    text = _fix_text(text, single_line=True)
    return _SUBJECT_PREFIX.sub("", text)[:MAX_SUBJECT_CHARS].rstrip()


def find_object_refs(text: str) -> list[str]:
    """Object ids named in ``text``, each once, in order of first mention."""
    found: list[tuple[int, str]] = []
    plain = text
    if "://" in text:
        for url in _URL.finditer(text):
            for match in _URL_REF.finditer(url.group()):
                found.append((url.start(), match.group("path") or match.group("query")))
        # URLs are blanked (same length, so positions hold) before the word rules, so that a
        # link's "#123" fragment or "/objects/" path is not read twice or misread.
        plain = _URL.sub(lambda m: " " * len(m.group()), text)
    # The substring tests are a cheap gate in front of the (slower) word regex.
    lowered = plain.lower()
    if any(stem in lowered for stem in _OBJECT_STEMS):
        for match in _TEXT_REF.finditer(plain):
            found.append((match.start(), match.group("first")))
            found.extend((match.start(), ref) for ref in _DIGITS.findall(match.group("more")))
    if "#" in plain:
        found.extend((m.start(), m.group("first")) for m in _HASH_REF.finditer(plain))
    found.sort(key=lambda item: item[0])  # stable: refs of one match keep their order
    return list(dict.fromkeys(ref for _, ref in found))


def normalise(raw: RawTip) -> RawTip:
    """Return the tip with clean subject and body and ``object_refs`` filled in."""
    subject = _clean_subject(raw.subject) if raw.subject else ""
    body, history = _clean_body(raw.body) if raw.body else ("", "")
    found = find_object_refs(f"{subject}\n{body}")
    if not found and history:
        quoted = list(dict.fromkeys(find_object_refs(history)))
        found = quoted if len(quoted) <= _MAX_HISTORY_REFS else []
    refs = list(
        dict.fromkeys(([raw.object_ref] if raw.object_ref else []) + [*raw.object_refs, *found])
    )
    if len(refs) > _MAX_REFS:
        logger.debug("tip %s names %d objects; keeping %d", raw.tip_id, len(refs), _MAX_REFS)
        refs = refs[:_MAX_REFS]
    return raw.model_copy(update={"subject": subject, "body": body, "object_refs": tuple(refs)})
