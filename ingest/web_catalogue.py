"""Published objects the tip form is about: their titles and descriptions per language."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from pydantic import TypeAdapter, ValidationError

from schemas.tip import ObjectRef
from tipline.core.errors import ConfigurationError

_OBJECT_REF: Final = TypeAdapter(ObjectRef)


# The object texts tried, in order, when there are none in the visitor's language: the same
# written language under another code (Norwegian: the site's one interface catalogue is
# ``nb``, an editor may enter ``no`` or ``nn``), then English, the appeal's own language.
RELATED_LANGUAGES: Final[Mapping[str, tuple[str, ...]]] = {
    "nb": ("no", "nn"),
    "nn": ("no", "nb"),
    "no": ("nb", "nn"),
}
FALLBACK_LANGUAGE: Final = "en"


def choose_texts(
    texts: Mapping[str, Mapping[str, Any]], lang: str
) -> tuple[str | None, Mapping[str, Any]]:
    """The object texts to show a visitor reading ``lang``, and the language they are in.

    A language counts only if it has a title, so the title, description and questions on a
    page are always in one language: ``lang``, a related code, English, then the first one the
    object has (in the editor's order). ``(None, {})`` when the object has no titled texts."""
    for code in (lang, *RELATED_LANGUAGES.get(lang, ()), FALLBACK_LANGUAGE):
        chosen = texts.get(code)
        if chosen and chosen.get("title"):
            return code, chosen
    for code, chosen in texts.items():
        if chosen and chosen.get("title"):
            return code, chosen
    return None, {}


@dataclass(frozen=True)
class ObjectPage:
    title: str
    description: str
    # The questions the appeal asks about the object, in the page's language.
    questions: tuple[str, ...] = ()
    # The object's sanitised picture in the media store (sha256), if it has one.
    picture: str | None = None
    # A retired or identified object: the page thanks people, and still takes tips.
    closed: bool = False
    # The language the title, description and questions are written in, when it is known;
    # it differs from the page's language when the object has no texts in the visitor's.
    lang: str | None = None


class ObjectCatalogue:
    """Published objects: ``{id: {lang: {"title": ..., "description": ...}}}`` from JSON.

    Without a catalogue every well-formed object id gets a generic page, so an appeal can go
    out before its text is written.
    """

    def __init__(self, entries: Mapping[str, Mapping[str, Mapping[str, Any]]] | None) -> None:
        self._entries = entries

    @classmethod
    def load(cls, path: Path | None) -> ObjectCatalogue:
        if path is None:
            return cls(None)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot read object catalogue {path}: {exc}") from exc
        if not isinstance(raw, dict):
            raise ConfigurationError(f"object catalogue {path} must map ids to objects")
        for ref, texts in raw.items():
            try:
                _OBJECT_REF.validate_python(ref)
            except ValidationError as exc:
                raise ConfigurationError(f"object catalogue: {ref!r} is not an object id") from exc
            if not isinstance(texts, dict) or not all(
                isinstance(v, dict) and isinstance(v.get("title", ""), str) for v in texts.values()
            ):
                raise ConfigurationError(f"object catalogue: entry {ref!r} is malformed")
        return cls(raw)

    async def refresh(self) -> None:
        """Bring the catalogue up to date before a page is answered; a file never changes."""

    def page(self, ref: str, lang: str, generic_title: str) -> ObjectPage | None:
        """The object's texts in ``lang`` or the nearest fallback (``choose_texts``); None if
        the object is unknown."""
        try:
            _OBJECT_REF.validate_python(ref)
        except ValidationError:
            return None
        if self._entries is None:
            return ObjectPage(title=generic_title.format(ref=ref), description="")
        texts = self._entries.get(ref)
        if texts is None:
            return None
        code, chosen = choose_texts(texts, lang)
        questions = chosen.get("questions") or ()
        return ObjectPage(
            title=str(chosen.get("title") or generic_title.format(ref=ref)),
            description=str(chosen.get("description", "")),
            questions=tuple(str(q) for q in questions if isinstance(q, str)),
            lang=code,
        )
