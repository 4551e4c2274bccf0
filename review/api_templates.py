"""The review pages' Jinja templates and their display filters for times, ages and evidence."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, get_args

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from schemas.tip import Evidence, RedactionKind

TEMPLATE_DIR: Final = Path(__file__).parent / "templates"


def page_templates() -> Environment:
    """The templates in ``review/templates``, autoescaped, with the filters they use."""
    templates = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        auto_reload=False,
    )
    templates.filters["when"] = _when
    templates.filters["age"] = _age
    templates.filters["evidence"] = _evidence
    templates.filters["redacted"] = redacted
    return templates


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "–"


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} days"


def _evidence(evidence: Evidence) -> str:
    parts = [
        f"{label}: {', '.join(str(v) for v in values)}"
        for label, values in (
            ("countries", evidence.countries),
            ("cities", evidence.cities),
            ("shops", evidence.shops),
            ("brands", evidence.brands),
            ("product ids", evidence.product_ids),
            ("years", evidence.years),
        )
        if values
    ]
    return "; ".join(parts) or "–"


# The placeholders redaction leaves ("[EMAIL]", "[PHONE]" …): exactly the kinds it knows.
_PLACEHOLDER: Final = re.compile(
    r"\[(?:" + "|".join(re.escape(k) for k in get_args(RedactionKind)) + r")\]"
)


def redacted(text: str) -> Markup:
    """Tip text, escaped, with each redaction placeholder visibly marked."""
    escaped = str(escape(text))
    return Markup(  # noqa: S704 - built from escaped text and our own fixed markup
        _PLACEHOLDER.sub(
            lambda m: f'<mark class="redacted" title="removed before storage">{m.group(0)}</mark>',
            escaped,
        )
    )
