"""Web intake: the public tip form per published object, the partner JSON API, and health.

Contract (``create_app(settings, sink, media)``):

    GET  /objects/{object_ref}        the object's page with a tip form (6 languages, no JS)
    POST /objects/{object_ref}/tips   the form's target; answers with a receipt (tip reference)
    POST /api/tips                    JSON for partner sites and apps; per-partner API key
    GET  /healthz                     liveness
    GET  /openapi.json                the API description (no Swagger page: it loads a CDN)

A tip is acknowledged (receipt page, 202) only after ``await sink.submit_async(raw)`` returned,
i.e. after the broker acknowledged it with acks=all. A ``TransientError`` answers 503 with
``Retry-After``: the tip was not accepted and the sender is told so.

Privacy: the client address is used only as a rate-limit key (``ingest.ratelimit``: a keyed
hash under a per-process random key, in memory, expiring). It is never put in the RawTip,
never logged, and uvicorn runs without its access log. Responses never echo the tip: a
receipt carries the reference only. Contact details go to ``channel_meta`` and only when the
tipster ticked the consent box. Photos go through ``ingest.photos`` and only the sanitised
re-encoding is stored. Pages load nothing from elsewhere, set one cookie (the CSRF token) and
are sent with a strict Content-Security-Policy.

This module only translates HTTP into ``RawTip``: no cleaning, no scoring.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import Base64Bytes, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartParser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ingest.i18n import LANGUAGES, load_catalogues, negotiate
from ingest.photos import DEFAULT_MAX_BYTES, MediaStore, sanitise_image
from ingest.producer import TipSink
from ingest.ratelimit import RateLimiter, SourceKeyer, retry_after_header
from ingest.webhook import create_router
from schemas.tip import MAX_BODY_CHARS, MAX_SUBJECT_CHARS, Attachment, ObjectRef, RawTip
from tipline.errors import (
    BackpressureError,
    ConfigurationError,
    RejectedContentError,
    TransientError,
)
from tipline.http import SecurityHeadersMiddleware
from tipline.settings import Settings

log = logging.getLogger(__name__)

HERE: Final = Path(__file__).parent
MAX_CONTACT_CHARS: Final = 200
MAX_API_PHOTOS: Final = 3
# Room for one photo plus the text fields and multipart framing; the API's base64 photos
# are a third larger than their bytes.
FORM_BODY_LIMIT: Final = DEFAULT_MAX_BYTES + 256 * 1024
API_BODY_LIMIT: Final = (DEFAULT_MAX_BYTES * 4) // 3 + 256 * 1024
BUSY_RETRY_AFTER_S: Final = 5.0
_PARTNER_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
_MIN_API_KEY_CHARS: Final = 16
_CSRF_RE: Final = re.compile(r"^[A-Za-z0-9_-]{43}$")
_OBJECT_REF: Final = TypeAdapter(ObjectRef)

# Uploads above this size would be spooled to a temporary file by Starlette: raise it above the
# body limit so original photo bytes stay in memory and never touch a disk.
MultiPartParser.spool_max_size = FORM_BODY_LIMIT + 1

# Pages load nothing from elsewhere and run no script.
CSP: Final = (
    b"default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
    b"form-action 'self'; frame-ancestors 'none'"
)


# --- the partner API's contract ------------------------------------------------------------


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
        description="How to reach the tipster; kept only with contact_consent.",
    )


class ApiReceipt(BaseModel):
    """What the API answers for an accepted tip: its reference, nothing of its content."""

    tip_id: str
    status: Literal["accepted"] = "accepted"


class ApiError(BaseModel):
    detail: str | list[dict[str, Any]]


# --- published objects ---------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectPage:
    title: str
    description: str


class ObjectCatalogue:
    """Published objects: ``{id: {lang: {"title": ..., "description": ...}}}`` from JSON.

    Without a catalogue every well-formed object id gets a generic page, so an appeal can go
    out before its text is written.
    """

    def __init__(self, entries: Mapping[str, Mapping[str, Mapping[str, str]]] | None) -> None:
        self._entries = entries

    @classmethod
    def load(cls, path: Path | None) -> ObjectCatalogue:
        if path is None:
            return cls(None)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot read object catalogue {path}: {exc}") from exc
        if not isinstance(raw, dict):
            raise ConfigurationError(f"object catalogue {path} must map ids to objects")
        for ref, texts in raw.items():
            try:
                _OBJECT_REF.validate_python(ref)
            except ValidationError as exc:
                raise ConfigurationError(f"object catalogue: {ref!r} is not an object id") from exc
            if not isinstance(texts, dict) or not all(
                isinstance(v, dict) and isinstance(v.get("title", ""), str) for v in texts.values()
            ):
                raise ConfigurationError(f"object catalogue: entry {ref!r} is malformed")
        return cls(raw)

    def page(self, ref: str, lang: str, generic_title: str) -> ObjectPage | None:
        """The object's texts in ``lang`` (falling back to English, then any); None if unknown."""
        try:
            _OBJECT_REF.validate_python(ref)
        except ValidationError:
            return None
        if self._entries is None:
            return ObjectPage(title=generic_title.format(ref=ref), description="")
        texts = self._entries.get(ref)
        if texts is None:
            return None
        chosen = texts.get(lang) or texts.get("en") or next(iter(texts.values()), {})
        return ObjectPage(
            title=str(chosen.get("title") or generic_title.format(ref=ref)),
            description=str(chosen.get("description", "")),
        )


# --- ASGI middleware: pure, so they cost little at a thousand requests a second -------------


class _BodyTooLargeError(Exception):
    pass


class BodyLimitMiddleware:
    """Refuse request bodies above a limit (413) before or while they stream in."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = limit + 1
                if declared > limit:
                    await _send_plain(send, 413, "request body too large")
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLargeError
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLargeError:
            if not started:
                await _send_plain(send, 413, "request body too large")


async def _send_plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# --- helpers -------------------------------------------------------------------------------


def new_tip_id() -> str:
    """A random, unguessable web tip id: 128 bits in lower-case base32, e.g. ``w-k3…``."""
    return "w-" + base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=").lower()


def _client_source(request: Request) -> str:
    # Only ever passed to SourceKeyer.key; never stored, never logged.
    return request.client.host if request.client else "unknown"


def _check_partners(keys: Mapping[str, Any]) -> dict[str, bytes]:
    """Partner -> sha256(key); refuses names that could not form a tip id and weak keys."""
    digests: dict[str, bytes] = {}
    for partner, secret in keys.items():
        if not _PARTNER_RE.fullmatch(partner):
            raise ConfigurationError(
                f"API partner name {partner!r} must match {_PARTNER_RE.pattern}"
            )
        value = secret.get_secret_value()
        if len(value) < _MIN_API_KEY_CHARS:
            raise ConfigurationError(
                f"API key of partner {partner!r} is shorter than {_MIN_API_KEY_CHARS} characters"
            )
        digests[partner] = hashlib.sha256(value.encode()).digest()
    return digests


def _validation_detail(exc: ValidationError) -> list[dict[str, Any]]:
    # Pydantic's default error carries the offending input: never echo a tip back.
    return [
        {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_input=False, include_context=False)
    ]


# --- the app -------------------------------------------------------------------------------


class _Limits:
    """Per-source and global rate limits; answers the seconds to wait, 0.0 if allowed."""

    def __init__(self, settings: Settings) -> None:
        self.keyer = SourceKeyer()
        self.per_address = RateLimiter(settings.web_source_rate, settings.web_source_burst)
        self.per_partner = RateLimiter(settings.web_partner_rate, settings.web_partner_burst)
        self.overall = RateLimiter(settings.web_global_rate, settings.web_global_burst)

    def form(self, request: Request) -> float:
        wait = self.per_address.hit(self.keyer.key(_client_source(request)))
        return wait or self.overall.hit()

    def api(self, partner: str) -> float:
        wait = self.per_partner.hit(partner.encode())
        return wait or self.overall.hit()


@dataclass(frozen=True)
class _FormTip:
    """What a valid form submission carries, before it becomes a RawTip."""

    text: str
    meta: dict[str, str | list[str]]
    attachments: tuple[Attachment, ...]


class _Intake:
    """The handlers and the state they share; ``create_app`` wires them to routes."""

    def __init__(
        self, settings: Settings, sink: TipSink, media: MediaStore, catalogue: ObjectCatalogue
    ) -> None:
        self.settings = settings
        self.sink = sink
        self.media = media
        self.catalogue = catalogue
        self.messages = load_catalogues()
        self.partner_keys = _check_partners(settings.web_api_keys)
        self.limits = _Limits(settings)
        # __Host- pins the cookie to this exact origin, but browsers allow it only with Secure.
        self.csrf_cookie = "__Host-csrf" if settings.web_secure_cookies else "csrf"
        self.templates = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            auto_reload=False,
        )

    # --- rendering ---

    def render(
        self,
        name: str,
        lang: str,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        **ctx: Any,
    ) -> HTMLResponse:
        html = self.templates.get_template(name).render(
            lang=lang, t=self.messages[lang], languages=LANGUAGES, **ctx
        )
        response = HTMLResponse(html, status_code=status, headers=dict(headers or {}))
        response.headers["content-language"] = lang
        response.headers["vary"] = "Accept-Language"
        return response

    def error_page(
        self, lang: str, status: int, message_id: str, *, back: bool = True, retry_after: float = 0
    ) -> HTMLResponse:
        t = self.messages[lang]
        headers = {"retry-after": retry_after_header(retry_after)} if retry_after else None
        heading = t["not_found_title"] if status == 404 else t["error_title"]
        return self.render(
            "error.html", lang, status, headers, heading=heading, message=t[message_id], back=back
        )

    # --- shared steps ---

    async def accept(self, raw: RawTip) -> float:
        """Hand the tip to the broker; 0.0 when acknowledged, else seconds to retry after."""
        try:
            await self.sink.submit_async(raw)
        except BackpressureError as exc:
            log.warning("tip %s not accepted: broker back-pressure", raw.tip_id)
            return max(exc.retry_after, 1.0)
        except (TransientError, TimeoutError):
            # TimeoutError: a sink that waited for its acknowledgement and gave up.
            log.warning("tip %s not accepted: broker unavailable", raw.tip_id)
            return BUSY_RETRY_AFTER_S
        log.info("accepted tip %s (%s)", raw.tip_id, raw.channel_meta.get("interface", "?"))
        return 0.0

    async def store_photo(self, data: bytes) -> Attachment:
        # Decoding a 12-MP photo takes a CPU-tenth of a second: keep it off the event loop.
        image = await run_in_threadpool(sanitise_image, data)
        return await run_in_threadpool(self.media.put, image)

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

    # --- handlers ---

    async def http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if request.url.path.startswith(("/api/", "/hooks/")) or request.url.path == "/healthz":
            return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)
        lang = _page_lang(request)
        if exc.status_code == 404:
            return self.error_page(lang, 404, "not_found_text", back=False)
        # 400 here is a form the multipart parser refused: the page is stale or mangled.
        message = "error_csrf" if exc.status_code < 500 else "error_busy"
        return self.error_page(lang, exc.status_code, message)

    async def healthz(self) -> dict[str, str]:
        return {"status": "ok"}

    async def object_page(self, request: Request, object_ref: str) -> HTMLResponse:
        lang = _page_lang(request)
        page = self.catalogue.page(object_ref, lang, self.messages[lang]["object_generic_title"])
        if page is None:
            return self.error_page(lang, 404, "not_found_text", back=False)
        token = request.cookies.get(self.csrf_cookie, "")
        if not _CSRF_RE.fullmatch(token):
            token = secrets.token_urlsafe(32)
        response = self.render(
            "object.html",
            lang,
            show_languages=True,
            object_ref=object_ref,
            title=page.title,
            description=page.description,
            csrf=token,
            max_chars=MAX_BODY_CHARS,
            max_contact=MAX_CONTACT_CHARS,
        )
        # A session cookie that only proves the form came from this page (double submit).
        response.set_cookie(
            self.csrf_cookie,
            token,
            path="/",
            httponly=True,
            samesite="strict",
            secure=self.settings.web_secure_cookies,
        )
        return response

    async def submit_form(self, request: Request, object_ref: str) -> HTMLResponse:
        lang = _page_lang(request)
        if self.catalogue.page(object_ref, lang, "{ref}") is None:
            return self.error_page(lang, 404, "not_found_text", back=False)
        if not _same_origin(request):
            log.info("form tip refused: foreign origin")
            return self.error_page(lang, 403, "error_csrf")
        # Cheapest refusal first: before the body is even read.
        wait = self.limits.form(request)
        if wait:
            log.info("form tip refused: rate limit")
            return self.error_page(lang, 429, "error_rate", retry_after=wait)
        form = await request.form(max_files=1, max_fields=8, max_part_size=64 * 1024)
        try:
            outcome = await self._read_form(request, form)
        finally:
            await form.close()
        if isinstance(outcome, tuple):
            status, message_id = outcome
            return self.error_page(lang, status, message_id)
        raw = RawTip(
            tip_id=new_tip_id(),
            channel="web",
            received_at=datetime.now(UTC),
            object_ref=object_ref,
            body=outcome.text,
            attachments=outcome.attachments,
            channel_meta={**outcome.meta, "ui_lang": lang},
        )
        wait = await self.accept(raw)
        if wait:
            return self.error_page(lang, 503, "error_busy", retry_after=wait)
        return self.render("receipt.html", lang, reference=raw.tip_id, object_ref=object_ref)

    async def _read_form(self, request: Request, form: FormData) -> _FormTip | tuple[int, str]:
        """The form's tip, or (status, message id) saying why it is refused."""
        cookie = request.cookies.get(self.csrf_cookie, "")
        token = form.get("csrf")
        if not (
            isinstance(token, str)
            and _CSRF_RE.fullmatch(cookie)
            and hmac.compare_digest(cookie, token)
        ):
            log.info("form tip refused: CSRF token missing or wrong")
            return 403, "error_csrf"
        text = form.get("text")
        if not isinstance(text, str) or not text.strip():
            return 422, "error_empty"
        if len(text) > MAX_BODY_CHARS:
            return 422, "error_too_long"
        meta: dict[str, str | list[str]] = {"interface": "form"}
        contact = form.get("contact")
        # Contact details are kept only with consent, and only ever in channel_meta.
        if form.get("consent") == "yes" and isinstance(contact, str) and contact.strip():
            if len(contact) > MAX_CONTACT_CHARS:
                return 422, "error_contact"
            meta["contact"] = contact.strip()
            meta["contact_consent"] = "yes"
        attachments: tuple[Attachment, ...] = ()
        photo = form.get("photo")
        # Browsers send an empty file part when no photo was chosen.
        if isinstance(photo, UploadFile):
            data = await photo.read(DEFAULT_MAX_BYTES + 1)
            if data:
                try:
                    attachments = (await self.store_photo(data),)
                except RejectedContentError as exc:
                    log.info("form tip refused: photo (%s)", exc.reason)
                    return 422, "error_photo"
        return _FormTip(text=text, meta=meta, attachments=attachments)

    async def submit_api(self, request: Request) -> JSONResponse:
        """Accepted (202) only once the broker acknowledged the tip; resend on 503 or 429.

        The tip id is ``p-<partner>-<message_id>``, so a resent call is stored once.
        """
        partner = self.authenticate(request)
        if partner is None:
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
                attachments.append(await self.store_photo(data))
            except RejectedContentError as exc:
                log.info("API tip from %s refused: photo (%s)", partner, exc.reason)
                detail = [{"loc": ["photos", number], "msg": exc.reason, "type": "photo"}]
                return JSONResponse({"detail": detail}, 422)
        meta: dict[str, str | list[str]] = {"interface": "api", "partner": partner}
        if tip.contact_consent and tip.contact and tip.contact.strip():
            meta["contact"] = tip.contact.strip()
            meta["contact_consent"] = "yes"
        raw = RawTip(
            tip_id=f"p-{partner}-{tip.message_id}",
            channel="web",
            received_at=datetime.now(UTC),
            object_ref=tip.object_ref,
            object_refs=tip.object_refs,
            subject=tip.subject,
            body=tip.body,
            attachments=tuple(attachments),
            channel_meta=meta,
        )
        wait = await self.accept(raw)
        if wait:
            return JSONResponse(
                {"detail": "not accepted, try again"},
                503,
                headers={"retry-after": retry_after_header(wait)},
            )
        return JSONResponse(ApiReceipt(tip_id=raw.tip_id).model_dump(), 202)


_API_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    401: {"model": ApiError, "description": "Missing or wrong API key."},
    413: {"description": "Request body too large."},
    422: {"model": ApiError, "description": "Invalid tip (the input is not echoed)."},
    429: {"model": ApiError, "description": "Rate limit; see Retry-After."},
    503: {"model": ApiError, "description": "Not accepted, try again; see Retry-After."},
}


def create_app(
    settings: Settings,
    sink: TipSink,
    media: MediaStore,
    *,
    catalogue: ObjectCatalogue | None = None,
) -> FastAPI:
    """The web intake as an ASGI app. ``catalogue`` overrides ``settings.web_catalogue``."""
    intake = _Intake(
        settings, sink, media, catalogue or ObjectCatalogue.load(settings.web_catalogue)
    )
    app = FastAPI(
        title="tipline web intake",
        summary="Anonymous tips about published objects, from the public and partner apps.",
        version="1",
        # The Swagger and ReDoc pages load scripts from a CDN: not on a page tipsters can reach.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_exception_handler(StarletteHTTPException, intake.http_error)
    app.add_api_route(
        "/healthz", intake.healthz, methods=["GET"], tags=["operations"], summary="Liveness"
    )
    app.add_api_route(
        "/objects/{object_ref}", intake.object_page, methods=["GET"], include_in_schema=False
    )
    app.add_api_route(
        "/objects/{object_ref}/tips", intake.submit_form, methods=["POST"], include_in_schema=False
    )
    app.add_api_route(
        "/api/tips",
        intake.submit_api,
        methods=["POST"],
        status_code=202,
        tags=["tips"],
        summary="Submit a tip from a partner site or app",
        response_model=ApiReceipt,
        responses=_API_RESPONSES,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ApiTip.model_json_schema()}},
            },
            "security": [{"bearer": []}],
        },
    )
    # Platforms that push (signed webhooks) share this server and its body limit.
    app.include_router(create_router(settings.webhook_secrets, sink))

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            schema.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = {
                "type": "http",
                "scheme": "bearer",
                "description": "The partner's API key (or send it as X-API-Key).",
            }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    def body_limit(path: str) -> int:
        return API_BODY_LIMIT if path.startswith(("/api/", "/hooks/")) else FORM_BODY_LIMIT

    # Added last = outermost: the headers go on every answer, the 413 included.
    app.add_middleware(BodyLimitMiddleware, limit_for=body_limit)
    app.add_middleware(SecurityHeadersMiddleware, csp=CSP, hsts=settings.web_secure_cookies)
    return app


def _page_lang(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"), request.query_params.get("lang"))


def _same_origin(request: Request) -> bool:
    """A browser's Origin (when sent) must be this site: a second guard beside the CSRF token."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        # Old browsers send none; "null" comes from privacy modes. The token still decides.
        return True
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


def serve(settings: Settings, sink: TipSink, media: MediaStore | None = None) -> None:
    """Run the web intake with uvicorn until interrupted: no access log, no server header."""
    media = media or MediaStore(settings.web_media_dir or settings.data_dir / "media")
    app = create_app(settings, sink, media)
    config = uvicorn.Config(
        app,
        host=settings.web_host,
        port=settings.web_port,
        # The access log would write every client address: it stays off.
        access_log=False,
        server_header=False,
        proxy_headers=settings.web_forwarded_allow_ips is not None,
        forwarded_allow_ips=settings.web_forwarded_allow_ips,
        # Keep the process's own logging set-up (tipline/logs.py) instead of uvicorn's.
        log_config=None,
    )
    uvicorn.Server(config).run()


__all__ = [
    "ApiReceipt",
    "ApiTip",
    "ObjectCatalogue",
    "create_app",
    "new_tip_id",
    "serve",
]
