"""The objects of the appeal as data: their texts per language, picture and status.

    draft ──publish──▶ published ──identify(country)──▶ identified
                          │  ▲                             │
                        retire│reopen (publish)          retire
                          ▼  │                             ▼
                        retired ◀──────────────────────────┘

Only published, identified and retired objects have a public page (``ingest/catalogue_db.py``);
identified and retired ones say "this appeal is closed" and still take tips, which sink in the
queue instead of vanishing. Objects are public texts, not tips: a change is one row update
(``updated_at``) and the CLI's log line. Functions take an open psycopg connection; the rules
(``transition``, ``check_texts``, ``read_specs``) are pure and unit-tested.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, get_args

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import TypeAdapter, ValidationError

from schemas.tip import Attachment, ObjectRef

ObjectStatus = Literal["draft", "published", "identified", "retired"]
OBJECT_STATUSES: Final[tuple[ObjectStatus, ...]] = get_args(ObjectStatus)
NEXT: Final[Mapping[ObjectStatus, frozenset[ObjectStatus]]] = {
    "draft": frozenset({"published"}),
    "published": frozenset({"identified", "retired"}),
    "identified": frozenset({"retired"}),
    "retired": frozenset({"published"}),
}
MAX_TITLE_CHARS: Final = 200
MAX_QUESTIONS: Final = 10
MAX_QUESTION_CHARS: Final = 500
_REF: Final = TypeAdapter(ObjectRef)
_LANG_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz")
_COUNTRY: Final = re.compile(r"[A-Z]{2}")


class ObjectError(ValueError):
    """An object change that does not apply, with a message for the person who asked."""


@dataclass(frozen=True)
class ObjectTexts:
    """What the public page says about an object in one language."""

    title: str
    description: str = ""
    questions: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"title": self.title, "description": self.description, "questions": self.questions}


@dataclass(frozen=True)
class ObjectSpec:
    """An object as ``add`` and ``import`` take it: a reference and texts per language."""

    ref: str
    texts: Mapping[str, ObjectTexts] = field(default_factory=dict)
    picture: Path | None = None


def check_ref(ref: str) -> str:
    try:
        return _REF.validate_python(ref)
    except ValidationError as exc:
        raise ObjectError(f"{ref!r} is not an object reference") from exc


def check_texts(lang: str, texts: ObjectTexts) -> ObjectTexts:
    if len(lang) != 2 or not set(lang) <= _LANG_CHARS:
        raise ObjectError(f"{lang!r} is not a two-letter language code")
    title = " ".join(texts.title.split())
    if not title or len(title) > MAX_TITLE_CHARS:
        raise ObjectError(f"{lang}: a title of 1 to {MAX_TITLE_CHARS} characters is needed")
    questions = tuple(" ".join(q.split()) for q in texts.questions if q.strip())
    if len(questions) > MAX_QUESTIONS or any(len(q) > MAX_QUESTION_CHARS for q in questions):
        raise ObjectError(f"{lang}: at most {MAX_QUESTIONS} questions of {MAX_QUESTION_CHARS}")
    return ObjectTexts(title=title, description=texts.description.strip(), questions=questions)


def transition(current: ObjectStatus, target: ObjectStatus, country: str | None) -> None:
    """Raise ObjectError unless an object in ``current`` may become ``target``."""
    if target not in NEXT[current]:
        raise ObjectError(f"a {current} object cannot become {target}")
    if target == "identified" and not (country and _COUNTRY.fullmatch(country)):
        raise ObjectError("identify needs the country as ISO 3166-1 alpha-2, e.g. PL")


# --- reading specs from files ------------------------------------------------------------------


def read_specs(path: Path) -> list[ObjectSpec]:
    """Objects from a JSON list or a CSV with one row per object and language.

    JSON: ``[{"ref": "7", "picture": "bag.jpg", "texts": {"en": {"title": ..., "questions":
    [...]}}}]``. CSV columns: ``ref, lang, title, description, questions, picture`` with the
    questions separated by `` | ``. A picture path is relative to the file.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ObjectError(f"cannot read {path}: {exc}") from exc
    if path.suffix.lower() == ".csv":
        return _specs_from_csv(text.splitlines(), path.parent)
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise ObjectError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(raw, list):
        raise ObjectError(f"{path}: expected a list of objects")
    specs = []
    for number, item in enumerate(raw, 1):
        if not isinstance(item, dict) or not isinstance(item.get("texts"), dict):
            raise ObjectError(f"{path}: object {number} needs 'ref' and 'texts'")
        texts = {}
        for lang, t in item["texts"].items():
            if not isinstance(t, dict):
                raise ObjectError(f"{path}: object {number}, {lang}: texts must be an object")
            texts[lang] = check_texts(
                lang,
                ObjectTexts(
                    title=str(t.get("title", "")),
                    description=str(t.get("description", "")),
                    questions=tuple(str(q) for q in t.get("questions", ())),
                ),
            )
        picture = item.get("picture")
        specs.append(
            ObjectSpec(
                ref=check_ref(str(item.get("ref", ""))),
                texts=texts,
                picture=path.parent / picture if isinstance(picture, str) and picture else None,
            )
        )
    return specs


def _specs_from_csv(lines: Iterable[str], base: Path) -> list[ObjectSpec]:
    by_ref: dict[str, dict[str, ObjectTexts]] = {}
    pictures: dict[str, Path] = {}
    for number, row in enumerate(csv.DictReader(lines), 2):
        ref = check_ref((row.get("ref") or "").strip())
        lang = (row.get("lang") or "").strip().lower()
        questions = tuple(q for q in (row.get("questions") or "").split(" | ") if q.strip())
        try:
            texts = check_texts(
                lang,
                ObjectTexts(
                    title=row.get("title") or "",
                    description=row.get("description") or "",
                    questions=questions,
                ),
            )
        except ObjectError as exc:
            raise ObjectError(f"line {number}: {exc}") from exc
        by_ref.setdefault(ref, {})[lang] = texts
        if (row.get("picture") or "").strip():
            pictures[ref] = base / row["picture"].strip()
    return [ObjectSpec(ref, texts, pictures.get(ref)) for ref, texts in by_ref.items()]


# --- the database --------------------------------------------------------------------------------

Conn = psycopg.Connection[Any]

_UPSERT: Final = """
INSERT INTO objects (object_ref, texts, picture_sha256, picture_media_type, picture_phash)
VALUES (%(ref)s, %(texts)s, %(sha)s, %(media_type)s, %(phash)s)
ON CONFLICT (object_ref) DO UPDATE SET
    texts = objects.texts || EXCLUDED.texts,
    picture_sha256 = coalesce(EXCLUDED.picture_sha256, objects.picture_sha256),
    picture_media_type = coalesce(EXCLUDED.picture_media_type, objects.picture_media_type),
    -- A new picture brings its own hash (or none): never the old picture's.
    picture_phash = CASE WHEN EXCLUDED.picture_sha256 IS NULL THEN objects.picture_phash
                         ELSE EXCLUDED.picture_phash END,
    updated_at = now()
RETURNING status
"""


def save(conn: Conn, spec: ObjectSpec, picture: Attachment | None = None) -> ObjectStatus:
    """Add an object as a draft, or update its texts (per language) and picture; its status.

    ``picture`` is the stored, sanitised picture; its perceptual hash is kept so the processors
    can recognise the picture when a tipster re-shares it."""
    texts = {lang: t.as_json() for lang, t in spec.texts.items()}
    row = conn.execute(
        _UPSERT,
        {
            "ref": check_ref(spec.ref),
            "texts": Jsonb(texts),
            "sha": picture.sha256 if picture else None,
            "media_type": picture.media_type if picture else None,
            "phash": picture.phash if picture else None,
        },
    ).fetchone()
    assert row is not None
    status: ObjectStatus = row[0]
    return status


def change(conn: Conn, ref: str, target: ObjectStatus, country: str | None = None) -> ObjectStatus:
    """Move an object to ``target``; returns the status it had. Raises ObjectError."""
    with conn.transaction():
        found = conn.execute(
            "SELECT status, texts FROM objects WHERE object_ref = %s FOR UPDATE", (ref,)
        ).fetchone()
        if found is None:
            raise ObjectError(f"there is no object {ref!r}")
        current: ObjectStatus = found[0]
        transition(current, target, country)
        if target == "published" and not found[1]:
            raise ObjectError(f"object {ref!r} has no title yet: add one before publishing")
        conn.execute(
            "UPDATE objects SET status = %s, updated_at = now(),"
            " published_at = CASE WHEN %s = 'published' AND published_at IS NULL"
            "                     THEN now() ELSE published_at END,"
            " identified_country = CASE WHEN %s = 'identified' THEN %s"
            "                           ELSE identified_country END"
            " WHERE object_ref = %s",
            (target, target, target, country, ref),
        )
    return current


def list_objects(conn: Conn) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT o.object_ref, o.status, o.published_at, o.identified_country,"
            " o.picture_sha256 IS NOT NULL AS has_picture,"
            " (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(o.texts) k) AS languages,"
            " coalesce(o.texts -> 'en' ->> 'title',"
            "          (SELECT v ->> 'title' FROM jsonb_each(o.texts) e(k, v) LIMIT 1)) AS title"
            " FROM objects o ORDER BY o.object_ref"
        )
        return cur.fetchall()
