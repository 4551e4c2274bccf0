"""The tip form per object: its page, its submission (CSRF and Origin checked), HTML errors."""

from __future__ import annotations

import base64
import hmac
import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartParser

from ingest.i18n import LANGUAGES, direction, load_catalogues, negotiate
from ingest.photos import DEFAULT_MAX_BYTES
from ingest.ratelimit import retry_after_header
from ingest.web_catalogue import ObjectCatalogue
from ingest.web_handoff import Handoff
from ingest.web_limits import FORM_BODY_LIMIT, MAX_CONTACT_CHARS, RateLimits
from schemas.tip import MAX_BODY_CHARS, Attachment, RawTip
from tipline.errors import RejectedContentError
from tipline.settings import Settings

log = logging.getLogger(__name__)

TEMPLATES_DIR: Final = Path(__file__).parent / "templates"
_CSRF_RE: Final = re.compile(r"^[A-Za-z0-9_-]{43}$")

# Uploads above this size would be spooled to a temporary file by Starlette: raise it above the
# body limit so original photo bytes stay in memory and never touch a disk.
MultiPartParser.spool_max_size = FORM_BODY_LIMIT + 1


def new_tip_id() -> str:
    """A random, unguessable web tip id: 128 bits in lower-case base32, e.g. ``w-k3…``."""
    return "w-" + base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=").lower()


@dataclass(frozen=True)
class _FormTip:
    """What a valid form submission carries, before it becomes a RawTip."""

    text: str
    meta: dict[str, str | list[str]]
    attachments: tuple[Attachment, ...]
    sealed_contact: str | None = None


class FormPages:
    """The object page with its form, the form's target, and the HTML pages for errors."""

    def __init__(
        self,
        settings: Settings,
        catalogue: ObjectCatalogue,
        limits: RateLimits,
        handoff: Handoff,
    ) -> None:
        self.settings = settings
        self.catalogue = catalogue
        self.limits = limits
        self.handoff = handoff
        self.messages = load_catalogues()
        # __Host- pins the cookie to this exact origin, but browsers allow it only with Secure.
        self.csrf_cookie = "__Host-csrf" if settings.web_secure_cookies else "csrf"
        self.templates = Environment(
            loader=FileSystemLoader(TEMPLATES_DIR),
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
            lang=lang, dir=direction(lang), t=self.messages[lang], languages=LANGUAGES, **ctx
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

    # --- handlers ---

    async def object_page(self, request: Request, object_ref: str) -> HTMLResponse:
        lang = page_lang(request)
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
            takes_contact=self.handoff.takes_contact,
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
        lang = page_lang(request)
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
            sealed_contact=outcome.sealed_contact,
            channel_meta={**outcome.meta, "ui_lang": lang},
        )
        wait = await self.handoff.accept(raw)
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
        sealed = None
        # Contact details are kept only with consent, and only sealed for investigators: the
        # pipeline never holds them in the clear (ingest/contact.py).
        if (
            self.handoff.takes_contact
            and form.get("consent") == "yes"
            and isinstance(contact, str)
            and contact.strip()
        ):
            if len(contact) > MAX_CONTACT_CHARS:
                return 422, "error_contact"
            sealed = self.handoff.seal(contact)
        attachments: tuple[Attachment, ...] = ()
        photo = form.get("photo")
        # Browsers send an empty file part when no photo was chosen.
        if isinstance(photo, UploadFile):
            data = await photo.read(DEFAULT_MAX_BYTES + 1)
            if data:
                try:
                    attachments = (await self.handoff.store_photo(data),)
                except RejectedContentError as exc:
                    log.info("form tip refused: photo (%s)", exc.reason)
                    return 422, "error_photo"
        return _FormTip(text=text, meta=meta, attachments=attachments, sealed_contact=sealed)


def page_lang(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"), request.query_params.get("lang"))


def _same_origin(request: Request) -> bool:
    """A browser's Origin (when sent) must be this site: a second guard beside the CSRF token."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        # Old browsers send none; "null" comes from privacy modes. The token still decides.
        return True
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host
