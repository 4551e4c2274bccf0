"""Bytes at the edge: decode a Kafka value into a model, with an error that names the field."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from tipline.errors import DecodeError

M = TypeVar("M", bound=BaseModel)

_MAX_ERRORS = 5


def describe(exc: ValidationError) -> str:
    """'body: String should have at most 20000 characters; foo: Extra inputs are not permitted'.

    Built from locations and messages only — never from the offending input, which may be
    tipster text.
    """
    parts = []
    for err in exc.errors(include_input=False, include_url=False)[:_MAX_ERRORS]:
        where = ".".join(str(p) for p in err["loc"]) or "message"
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
        raise DecodeError(describe(exc)) from None
