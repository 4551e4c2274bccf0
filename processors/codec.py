"""Bytes at the edge: decode a Kafka value into a model, with an error that names the field."""

from __future__ import annotations

import re
import typing
from functools import cache
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from tipline.core.errors import DecodeError

M = TypeVar("M", bound=BaseModel)

_MAX_ERRORS = 5
_UNKNOWN = "(unknown field)"
_KEY = "(key)"
# pydantic's own location steps for union members and validators ("str", "list[str]",
# "function-after[...]"): type names, not input.
_TYPE_TAG_RE = re.compile(r"(str|int|float|bool|none|[a-z-]+\[[\w\[\], ().-]*\])")


@cache
def _field_names(model: type[BaseModel]) -> frozenset[str]:
    """Every field name of ``model`` and of the models nested in it: the names we may echo."""
    names: set[str] = set()
    pending: list[object] = [model]
    seen: set[object] = set()
    while pending:
        tp = pending.pop()
        if tp in seen:
            continue
        seen.add(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            for name, info in tp.model_fields.items():
                names.add(name)
                pending.append(info.annotation)
        elif typing.get_args(tp):
            pending.extend(typing.get_args(tp))
    return frozenset(names)


def _where(loc: tuple[int | str, ...], known: frozenset[str], kind: str) -> str:
    parts = []
    for i, part in enumerate(loc):
        if isinstance(part, int):
            parts.append(str(part))
        elif kind == "extra_forbidden" and i == len(loc) - 1:
            parts.append(_UNKNOWN)
        elif part in known or _TYPE_TAG_RE.fullmatch(part):
            parts.append(part)
        else:
            # A dict key (channel_meta is keyed by header names) or a name nobody declared:
            # either may be tipster data — an address used as a key — so it is never echoed.
            parts.append(_KEY)
    return ".".join(parts) or "message"


def describe(exc: ValidationError, model: type[BaseModel] | None = None) -> str:
    """'body: String should have at most 20000 characters; (unknown field): Extra inputs are
    not permitted'.

    Built from locations and messages only — never from the offending input, which may be
    tipster text, and never from a key the model does not declare (``model``, or the model that
    raised), since a key can be tipster data too.
    """
    known = _field_names(model) if model is not None else frozenset()
    parts = []
    for err in exc.errors(include_input=False, include_url=False)[:_MAX_ERRORS]:
        where = _where(tuple(err["loc"]), known, err["type"])
        parts.append(f"{where}: {err['msg']}")
    more = exc.error_count() - _MAX_ERRORS
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


def decode(model: type[M], data: bytes | None) -> M:
    """Validate ``data`` as JSON for ``model`` or raise DecodeError with a readable reason."""
    if data is None:
        raise DecodeError("message: empty value (tombstone)")
    try:
        return model.model_validate_json(data)
    except ValidationError as exc:
        raise DecodeError(describe(exc, model)) from None
