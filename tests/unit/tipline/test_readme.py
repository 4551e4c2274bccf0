"""The README documents every TIPLINE_ variable (regenerate with `python -m tipline.readme`)."""

from pathlib import Path

from tipline.readme import render

README = Path(__file__).parents[3] / "README.md"


def test_readme_configuration_table_is_current() -> None:
    text = README.read_text()
    assert render(text) == text, "README settings table is stale: run `python -m tipline.readme`"
    assert "make run" in text and "make test" in text
