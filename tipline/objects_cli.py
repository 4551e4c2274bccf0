"""``tipline objects …``: add, publish, retire, identify, list and import the appeal's objects."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import psycopg

from review.objects import (
    ObjectError,
    ObjectSpec,
    ObjectStatus,
    ObjectTexts,
    change,
    check_ref,
    check_texts,
    list_objects,
    read_specs,
    save,
)
from schemas import Attachment
from tipline import services
from tipline.core.errors import ConfigurationError, RejectedContentError
from tipline.core.security import database_conninfo
from tipline.core.settings import Settings

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    objects = sub.add_parser("objects", help="the appeal's objects: add, publish, retire, …")
    verbs = objects.add_subparsers(dest="objects_command", required=True)
    add = verbs.add_parser("add", help="add a draft object, or update an object's texts/picture")
    add.add_argument("ref", help="the object's reference, e.g. 2026-017")
    add.add_argument(
        "--title", action="append", default=[], metavar="LANG=TEXT", help="repeat per language"
    )
    add.add_argument("--description", action="append", default=[], metavar="LANG=TEXT")
    add.add_argument(
        "--question",
        action="append",
        default=[],
        metavar="LANG=TEXT",
        help="a question the page asks (repeat for several)",
    )
    add.add_argument("--picture", type=Path, help="JPEG, PNG or WebP; stored sanitised")
    for verb, text in (
        ("publish", "make the object's public page live"),
        ("retire", "close the appeal (the page thanks people and still takes tips)"),
    ):
        verbs.add_parser(verb, help=text).add_argument("ref")
    identify = verbs.add_parser("identify", help="the object's country is known: close it")
    identify.add_argument("ref")
    identify.add_argument("--country", required=True, help="ISO 3166-1 alpha-2, e.g. PL")
    verbs.add_parser("list", help="every object with its status")
    imp = verbs.add_parser("import", help="add or update objects from a JSON or CSV file")
    imp.add_argument("file", type=Path)
    imp.add_argument("--publish", action="store_true", help="publish the drafts it adds")


def _pairs(values: list[str], option: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        lang, sep, text = value.partition("=")
        if not sep:
            raise ObjectError(f"--{option} takes LANG=TEXT, e.g. en=Blue bag")
        pairs.append((lang.strip().lower(), text))
    return pairs


def spec_from_args(args: argparse.Namespace) -> ObjectSpec:
    titles = dict(_pairs(args.title, "title"))
    descriptions = dict(_pairs(args.description, "description"))
    questions: dict[str, list[str]] = {}
    for lang, text in _pairs(args.question, "question"):
        questions.setdefault(lang, []).append(text)
    langs = set(titles) | set(descriptions) | set(questions)
    if not set(titles) >= langs:
        raise ObjectError(f"a title is needed in every language given: {sorted(langs)}")
    texts = {
        lang: check_texts(
            lang,
            ObjectTexts(
                title=titles[lang],
                description=descriptions.get(lang, ""),
                questions=tuple(questions.get(lang, ())),
            ),
        )
        for lang in sorted(langs)
    }
    return ObjectSpec(ref=check_ref(args.ref), texts=texts, picture=args.picture)


def store_picture(settings: Settings, path: Path) -> Attachment:
    """Sanitise a picture like any tip photo (pixels only, no metadata); its stored record."""
    from ingest.photos import MediaStore, sanitise_image

    try:
        image = sanitise_image(path.read_bytes())
    except OSError as exc:
        raise ObjectError(f"cannot read {path}: {exc}") from exc
    except RejectedContentError as exc:
        raise ObjectError(f"{path}: {exc.reason}") from exc
    store = MediaStore(settings.web_media_dir or settings.data_dir / "media")
    return store.put(image)


def _save(conn: psycopg.Connection[Any], settings: Settings, spec: ObjectSpec) -> str:
    picture = store_picture(settings, spec.picture) if spec.picture else None
    return save(conn, spec, picture)


def run(settings: Settings, args: argparse.Namespace) -> int:
    # Objects need only the database: no broker has to be configured or running.
    resolved = settings if settings.database_url else services.resolve(settings)
    if resolved.database_url is None:
        raise ConfigurationError("TIPLINE_DATABASE_URL is not set")
    try:
        with psycopg.connect(database_conninfo(resolved), autocommit=True) as conn:
            return _run(conn, resolved, args)
    except ObjectError as exc:
        print(f"tipline objects: {exc}")
        return 2


def _run(conn: psycopg.Connection[Any], settings: Settings, args: argparse.Namespace) -> int:
    verb = args.objects_command
    if verb == "add":
        status = _save(conn, settings, spec_from_args(args))
        print(f"object {args.ref}: saved ({status})")
    elif verb in ("publish", "retire", "identify"):
        target: ObjectStatus = {
            "publish": "published",
            "retire": "retired",
            "identify": "identified",
        }[verb]  # type: ignore[assignment]
        country = args.country.strip().upper() if verb == "identify" else None
        before = change(conn, check_ref(args.ref), target, country)
        log.info("object %s: %s -> %s", args.ref, before, target)
        print(f"object {args.ref}: {before} -> {target}")
    elif verb == "list":
        for row in list_objects(conn):
            when = row["published_at"].date().isoformat() if row["published_at"] else "-"
            print(
                f"{row['object_ref']:<16} {row['status']:<10} {when:<10}"
                f" {row['identified_country'] or '--'}"
                f" {'picture' if row['has_picture'] else '-':<7}"
                f" {','.join(row['languages'] or [])}  {row['title'] or ''}"
            )
    elif verb == "import":
        specs = read_specs(args.file)
        for spec in specs:
            status = _save(conn, settings, spec)
            if args.publish and status == "draft":
                change(conn, spec.ref, "published")
        print(f"imported {len(specs)} object(s) from {args.file}")
    return 0
