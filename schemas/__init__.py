"""Pydantic models: the contract between adapters, stages and the reviewer database."""

from schemas.dead import DeadLetter
from schemas.tip import (
    MAX_BODY_CHARS,
    MAX_LISTED_COUNTRIES,
    MAX_SUBJECT_CHARS,
    SCHEMA_VERSION,
    Attachment,
    Channel,
    Cluster,
    Corroboration,
    Evidence,
    RawTip,
    Reach,
    Reason,
    RedactionKind,
    ScoredTip,
    Tip,
)

__all__ = [
    "MAX_BODY_CHARS",
    "MAX_LISTED_COUNTRIES",
    "MAX_SUBJECT_CHARS",
    "SCHEMA_VERSION",
    "Attachment",
    "Channel",
    "Cluster",
    "Corroboration",
    "DeadLetter",
    "Evidence",
    "RawTip",
    "Reach",
    "Reason",
    "RedactionKind",
    "ScoredTip",
    "Tip",
]
