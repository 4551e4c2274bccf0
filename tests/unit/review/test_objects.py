"""The objects' rules without a database: status steps, texts, JSON and CSV import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from review.objects import (
    NEXT,
    OBJECT_STATUSES,
    ObjectError,
    ObjectTexts,
    check_texts,
    read_specs,
    transition,
)


@pytest.mark.parametrize("current", OBJECT_STATUSES)
@pytest.mark.parametrize("target", OBJECT_STATUSES)
def test_only_the_drawn_steps_are_allowed(current: str, target: str) -> None:
    allowed = target in NEXT[current]  # type: ignore[index]
    if allowed:
        transition(current, target, "PL")  # type: ignore[arg-type]
    else:
        with pytest.raises(ObjectError):
            transition(current, target, "PL")  # type: ignore[arg-type]


@pytest.mark.parametrize("country", [None, "", "pl", "POL", "P1"])
def test_identify_needs_an_iso_country(country: str | None) -> None:
    with pytest.raises(ObjectError):
        transition("published", "identified", country)


def test_retired_objects_can_be_reopened_but_drafts_cannot_retire() -> None:
    transition("retired", "published", None)
    with pytest.raises(ObjectError):
        transition("draft", "retired", None)


@pytest.mark.parametrize(
    ("lang", "texts"),
    [
        ("eng", ObjectTexts(title="Bag")),
        ("e1", ObjectTexts(title="Bag")),
        ("en", ObjectTexts(title="   ")),
        ("en", ObjectTexts(title="x" * 201)),
        ("en", ObjectTexts(title="Bag", questions=tuple("q" for _ in range(11)))),
    ],
)
def test_bad_texts_are_refused(lang: str, texts: ObjectTexts) -> None:
    with pytest.raises(ObjectError):
        check_texts(lang, texts)


def test_texts_are_tidied() -> None:
    texts = check_texts("de", ObjectTexts(title="  Blaue \n Tasche ", questions=("  Wo? ", " ")))
    assert texts == ObjectTexts(title="Blaue Tasche", description="", questions=("Wo?",))


def test_json_import(tmp_path: Path) -> None:
    path = tmp_path / "o.json"
    path.write_text(
        json.dumps(
            [{"ref": "a-1", "picture": "a.jpg", "texts": {"en": {"title": "A", "questions": []}}}]
        )
    )
    [spec] = read_specs(path)
    assert spec.ref == "a-1" and spec.picture == tmp_path / "a.jpg"
    assert spec.texts["en"].title == "A"


def test_csv_import_groups_languages_per_object(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text(
        "ref,lang,title,description,questions,picture\n"
        "a-1,en,A,,One? | Two?,a.png\na-1,pl,Ą,,,\nb-2,en,B,,,\n",
        encoding="utf-8",
    )
    specs = {s.ref: s for s in read_specs(path)}
    assert specs["a-1"].texts["en"].questions == ("One?", "Two?")
    assert specs["a-1"].texts["pl"].title == "Ą"
    assert specs["a-1"].picture == tmp_path / "a.png" and specs["b-2"].picture is None


@pytest.mark.parametrize(
    "content",
    ['{"ref": "a"}', '[{"ref": "a b", "texts": {"en": {"title": "A"}}}]', "not json"],
)
def test_malformed_json_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "o.json"
    path.write_text(content)
    with pytest.raises(ObjectError):
        read_specs(path)
