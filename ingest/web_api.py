"""The partner JSON API: its request and answer models, partner keys, and ``POST /api/tips``."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final, Literal

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import Base64Bytes, BaseModel, ConfigDict, Field, SecretStr, ValidationError

from ingest.ratelimit import retry_after_header
from ingest.tip_ids import TipIds
from ingest.web_handoff import Handoff
from ingest.web_limits import MAX_CONTACT_CHARS, RateLimits, client_source
from schemas.tip import MAX_BODY_CHARS, MAX_SUBJECT_CHARS, Attachment, ObjectRef, RawTip
from tipline.core.errors import RejectedContentError
from tipline.core.http import credential_digests

log = logging.getLogger(__name__)

MAX_API_PHOTOS: Final = 3
_PARTNER_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
_MIN_API_KEY_CHARS: Final = 16


class ApiTip(BaseModel):
    """A tip from a partner site or app. ``message_id`` is the partner's own id for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    message_id: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$",
        description="The partner's id for this tip; a re-sent call with the same id is one tip.",
    )
    object_ref: ObjectRef | None = Field(default=None, description="The object the tip is about.")
    object_refs: tuple[ObjectRef, ...] = Field(default=(), max_length=20)
    subject: str = Field(default="", max_length=MAX_SUBJECT_CHARS)
    body: str = Field(min_length=1, max_length=MAX_BODY_CHARS, description="The tip's text.")
    photos: tuple[Base64Bytes, ...] = Field(
        default=(),
        max_length=MAX_API_PHOTOS,
        description="JPEG, PNG or WebP images, base64; sanitised before storage.",
    )
    contact_consent: bool = Field(default=False, description="The tipster agreed to be contacted.")
    contact: str | None = Field(
        default=None,
        max_length=MAX_CONTACT_CHARS,
        description="How to reach the tipster; kept only with contact_consent, sealed for "
        "investigators. Refused (422) where no investigators' key is configured.",
    )


class ApiReceipt(BaseModel):
    """What the API answers for an accepted tip: its reference, nothing of its content."""

    tip_id: str
    status: Literal["accepted"] = "accepted"


class ApiError(BaseModel):
    detail: str | list[dict[str, Any]]


# The error answers as the OpenAPI description lists them.
API_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    401: {"model": ApiError, "description": "Missing or wrong API key."},
    413: {"description": "Request body too large."},
    422: {"model": ApiError, "description": "Invalid tip (the input is not echoed)."},
    429: {"model": ApiError, "description": "Rate limit; see Retry-After."},
    503: {"model": ApiError, "description": "Not accepted, try again; see Retry-After."},
}


class PartnerApi:
    """``POST /api/tips``: authenticates the partner, then turns its ApiTip into a RawTip."""

    def __init__(
        self, api_keys: Mapping[str, Any], limits: RateLimits, handoff: Handoff, ids: TipIds
    ) -> None:
        self.partner_keys = _check_partners(api_keys)
        self.ids = ids
        self.limits = limits
        self.handoff = handoff

    def authenticate(self, request: Request) -> str | None:
        """The partner whose API key the request carries (Bearer or X-API-Key), else None."""
        header = request.headers.get("authorization", "")
        scheme, _, credential = header.partition(" ")
        if scheme.lower() != "bearer":
            credential = request.headers.get("x-api-key", "")
        credential = credential.strip()
        presented = hashlib.sha256(credential.encode()).digest()
        found: str | None = None
        # Compare with every partner's key, always: the time taken says nothing about which.
        for partner, digest in self.partner_keys.items():
            if hmac.compare_digest(presented, digest) and credential:
                found = partner
        return found

    async def submit_api(self, request: Request) -> JSONResponse:
        """Accepted (202) only once the broker acknowledged the tip; resend on 503 or 429.

        The tip id is ``p-<partner>-`` + a keyed hash of the message id, so a resent call is
        stored once and the partner's own id does not lead to the tip.
        """
        throttle = self.limits.credentials
        locked = throttle.blocked(client_source(request))
        if locked:
            log.info("API tip refused: too many wrong API keys")
            return JSONResponse(
                {"detail": "too many wrong API keys"},
                429,
                headers={"retry-after": retry_after_header(locked)},
            )
        partner = self.authenticate(request)
        if partner is None:
            throttle.failed(client_source(request))
            return JSONResponse(
                {"detail": "missing or wrong API key"}, 401, headers={"www-authenticate": "Bearer"}
            )
        wait = self.limits.api(partner)
        if wait:
            log.info("API tip from %s refused: rate limit", partner)
            return JSONResponse(
                {"detail": "rate limit"}, 429, headers={"retry-after": retry_after_header(wait)}
            )
        try:
            tip = ApiTip.model_validate_json(await request.body())
        except ValidationError as exc:
            return JSONResponse({"detail": _validation_detail(exc)}, 422)
        attachments: list[Attachment] = []
        for number, data in enumerate(tip.photos):
            try:
                attachments.append(await self.handoff.store_photo(data))
            except RejectedContentError as exc:
                log.info("API tip from %s refused: photo (%s)", partner, exc.reason)
                detail = [{"loc": ["photos", number], "msg": exc.reason, "type": "photo"}]
                return JSONResponse({"detail": detail}, 422)
        meta: dict[str, str | list[str]] = {"interface": "api", "partner": partner}
        sealed = None
        if tip.contact_consent and tip.contact and tip.contact.strip():
            if not self.handoff.takes_contact:
                # Refused, not dropped: the partner must not tell a tipster they can be reached.
                detail = [
                    {
                        "loc": ["contact"],
                        "msg": "contact details are not accepted here",
                        "type": "contact",
                    }
                ]
                return JSONResponse({"detail": detail}, 422)
            sealed = self.handoff.seal(tip.contact)
        raw = RawTip(
            tip_id=self.ids.derive(f"p-{partner}-", "api", partner, tip.message_id),
            channel="web",
            received_at=datetime.now(UTC),
            object_ref=tip.object_ref,
            object_refs=tip.object_refs,
            subject=tip.subject,
            body=tip.body,
            attachments=tuple(attachments),
            sealed_contact=sealed,
            channel_meta=meta,
        )
        refusal = await self.handoff.accept(raw)
        if refusal is not None:
            answer = (
                "not confirmed, resend (the same message_id is stored once)"
                if refusal.maybe_saved
                else "not accepted, try again"
            )
            return JSONResponse(
                {"detail": answer},
                503,
                headers={"retry-after": retry_after_header(refusal.retry_after)},
            )
        return JSONResponse(ApiReceipt(tip_id=raw.tip_id).model_dump(), 202)


def _check_partners(keys: Mapping[str, SecretStr]) -> dict[str, bytes]:
    """Partner -> sha256(key); refuses names that could not form a tip id and weak keys."""
    return credential_digests(
        keys,
        holder="API partner",
        key_label="API key",
        name_pattern=_PARTNER_RE,
        min_chars=_MIN_API_KEY_CHARS,
    )


def _validation_detail(exc: ValidationError) -> list[dict[str, Any]]:
    # Pydantic's default error carries the offending input: never echo a tip back.
    return [
        {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_input=False, include_context=False)
    ]
