"""The tip models: the contract between adapters, stages and the reviewer database.

    TipContent              what every stage carries (identity, channel, text, attachments)
    RawTip     tips.raw     what an adapter hands over; the only model with ``channel_meta``
    Tip        tips.clean   normalised, redacted, language known; no field derives from the tipster
    ScoredTip  tips.scored  a Tip with its duplicate cluster, corroboration, score and reasons

``redact`` is the one function that turns a RawTip into a Tip, so transport metadata cannot reach
a clean topic by type: Tip has no field to hold it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints

from schemas.base import FrozenModel

SCHEMA_VERSION: Literal[1] = 1
MAX_BODY_CHARS = 20_000
MAX_SUBJECT_CHARS = 500
MAX_ATTACHMENTS = 10

Channel = Literal["web", "email", "social", "import"]

# Ids travel in URLs, Kafka keys and SQL: keep them to a safe, printable alphabet.
TipId = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
]
ObjectRef = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]
Subject = Annotated[str, StringConstraints(max_length=MAX_SUBJECT_CHARS)]
Body = Annotated[str, StringConstraints(max_length=MAX_BODY_CHARS)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
# A 64-bit perceptual hash (DCT pHash, ingest/photos.py) in hex: near-identical pictures (resized,
# re-encoded, lightly cropped) differ in a few bits, different pictures in about half of them.
PerceptualHash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^([a-z]{2}|und)$")]
# A libsodium sealed box in base64 (ingest/contact.py): ciphertext only, never plain contact.
SealedContact = Annotated[
    str, StringConstraints(min_length=64, max_length=1024, pattern=r"^[A-Za-z0-9+/]+=*$")
]

# A follow-up receipt's lookup id (10 base32 characters) and the argon2id hash of its secret part
# (ingest/followup.py). Neither says anything about the tipster: both come from random bytes.
LookupId = Annotated[str, StringConstraints(pattern=r"^[a-z2-7]{10}$")]
Argon2Hash = Annotated[
    str,
    StringConstraints(min_length=20, max_length=200, pattern=r"^\$argon2id\$[A-Za-z0-9$=,+/]+$"),
]

RedactionKind = Literal[
    "EMAIL", "PHONE", "IBAN", "IP", "CARD", "HANDLE", "PERSON", "ADDRESS", "URL_TOKEN"
]


def _as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_as_utc)]


class Attachment(FrozenModel):
    """A sanitised image, stored content-addressed; the original bytes are never kept."""

    sha256: Sha256
    media_type: Literal["image/jpeg", "image/png", "image/webp"]
    size: int = Field(ge=1, le=10 * 1024 * 1024)
    width: int = Field(ge=1)
    height: int = Field(ge=1)
    # Of the sanitised pixels; None for attachments stored before photos were hashed.
    phash: PerceptualHash | None = None


class FollowUpReceipt(FrozenModel):
    """What checks a follow-up receipt: made at intake, stored by the sink, never shown."""

    lookup_id: LookupId
    secret_hash: Argon2Hash


class TipContent(FrozenModel):
    """What every stage of a tip carries: its identity, where it came in, and what it says."""

    schema_version: Literal[1] = SCHEMA_VERSION
    # Stable idempotency key: derived from the channel's own message id where there is one,
    # so a re-sent message keeps its id and the sink stores it once.
    tip_id: TipId
    channel: Channel
    received_at: UtcDatetime
    object_ref: ObjectRef | None = None
    object_refs: tuple[ObjectRef, ...] = ()
    subject: Subject = ""
    body: Body
    attachments: tuple[Attachment, ...] = Field(default=(), max_length=MAX_ATTACHMENTS)
    # Contact details the tipster chose to give, sealed for investigators: opaque everywhere here.
    sealed_contact: SealedContact | None = None
    # Set by detect_language, which runs on the normalised RawTip before redaction (so the
    # redactor knows the language) and travels on to the Tip; ``und`` until then.
    language: LanguageCode = "und"
    language_confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    # A follow-up answer names the tip it answers (the tipster held that tip's receipt).
    follow_up_of: TipId | None = None
    # The receipt that lets the tipster come back to this tip; only its hash travels.
    receipt: FollowUpReceipt | None = None

    def partition_key(self) -> str:
        """Tips about one object share a partition, so per-object state lives on one worker."""
        return self.object_ref or self.tip_id


class RawTip(TipContent):
    """A tip as a channel adapter hands it over, before any cleaning."""

    # Transport metadata (IP, mail headers, handle, ...). Exists only on tips.raw; redact drops it.
    channel_meta: dict[str, str | list[str]] = Field(default_factory=dict)


# A claim naming more countries than this stores only their number (a worldwide brand would put
# 250 codes on every tip); the lexicon still knows them.
MAX_LISTED_COUNTRIES = 30


class Reach(FrozenModel):
    """The countries one named thing points to: how far it narrows the search."""

    kind: Literal["country", "city", "shop", "brand"]
    value: str  # as in the Evidence field of that kind
    countries: tuple[str, ...] = ()  # ISO codes, when at most MAX_LISTED_COUNTRIES
    spread: int = Field(default=0, ge=0)  # how many countries; 0: the lexicon does not say


class Evidence(FrozenModel):
    """What a tip says about where the object comes from, in canonical form."""

    countries: tuple[str, ...] = ()  # ISO 3166-1 alpha-2, e.g. "PL"
    cities: tuple[str, ...] = ()  # canonical (English) city name, e.g. "Graz"
    shops: tuple[str, ...] = ()  # canonical shop-chain name from the lexicon, e.g. "Rossmann"
    brands: tuple[str, ...] = ()  # canonical brand name from the lexicon
    product_ids: tuple[str, ...] = ()  # checksum-valid EANs and article numbers
    urls: tuple[str, ...] = ()  # shop/product URLs, personal tokens already removed
    years: tuple[int, ...] = ()
    # The countries each country, city, shop and brand above points to (lexicon.Lexicon.reach).
    reach: tuple[Reach, ...] = ()

    def is_empty(self) -> bool:
        return not any(
            (
                self.countries,
                self.cities,
                self.shops,
                self.brands,
                self.product_ids,
                self.urls,
                self.years,
            )
        )


class Tip(TipContent):
    """A cleaned tip: normalised, redacted, language detected. Safe for every downstream topic."""

    # Keyed HMAC of the channel identity: counts floods and independent tipsters, names nobody.
    sender_key: str | None = None
    redactions: dict[RedactionKind, int] = Field(default_factory=dict)
    evidence: Evidence = Evidence()


class Cluster(FrozenModel):
    """The near-duplicate cluster a tip joined: one line per guess for the analyst."""

    cluster_id: str
    representative_tip_id: TipId
    size: int = Field(ge=1)
    distinct_senders: int = Field(ge=0)
    # The earlier tip this one matched, with its similarity (None for a cluster's first tip).
    duplicate_of: TipId | None = None
    similarity: float = Field(default=0.0, ge=0.0, le=1.0)
    exact: bool = False
    # This tip's 1-based position in its object's dedupe stream (0: unknown). A restarted
    # worker replays stored tips in this order to rebuild exactly the same dedupe state.
    sequence: int = Field(default=0, ge=0)


class Corroboration(FrozenModel):
    """How many independent tipsters name the same piece of evidence for this object."""

    # "photo": near-identical photos (``value`` is the first one's perceptual hash).
    kind: Literal["country", "city", "shop", "brand", "product_id", "photo"]
    value: str
    senders: int = Field(ge=1)


class Reason(FrozenModel):
    """One feature that moved the score, readable by an analyst."""

    feature: str  # machine name, e.g. "shop"
    text: str  # e.g. "names a shop chain: Rossmann"
    weight: int  # signed points added to the score

    def __str__(self) -> str:
        return f"{self.text} {self.weight:+d}"


class ScoredTip(Tip):
    """A tip after triage: clustered, corroborated, scored and explained."""

    cluster: Cluster | None = None
    corroboration: tuple[Corroboration, ...] = ()
    # Attachments (by sha256) that are the object's own published picture, re-shared: shown to
    # analysts as such, never counted as new evidence.
    reshared_pictures: tuple[Sha256, ...] = ()
    score: int = Field(default=0, ge=0, le=100)
    reasons: tuple[Reason, ...] = ()
    score_version: str = ""
