"""normalise: make a raw tip's text canonical and find the objects it refers to."""

from __future__ import annotations

import re
import unicodedata

from schemas import RawTip

_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_OBJECT_REF = re.compile(r"(?:\bobject\s*#?\s*|#)(\d{1,10})\b", re.IGNORECASE)


def _clean_text(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def normalise(raw: RawTip) -> RawTip:
    """Return the tip with NFC, whitespace-collapsed text and ``object_refs`` filled in."""
    subject = _clean_text(raw.subject)
    body = _clean_text(raw.body)
    refs = dict.fromkeys(
        ([raw.object_ref] if raw.object_ref else [])
        + list(raw.object_refs)
        + _OBJECT_REF.findall(f"{subject}\n{body}")
    )
    return raw.model_copy(update={"subject": subject, "body": body, "object_refs": tuple(refs)})
