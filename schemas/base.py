"""The base every message model shares: frozen, strict about unknown fields."""

from pydantic import BaseModel, ConfigDict


class FrozenModel(BaseModel):
    """A message between stages: immutable, and unknown fields are an error, not a surprise."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)
