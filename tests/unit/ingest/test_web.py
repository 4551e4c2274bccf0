"""Unit tests for ingest/web.py: form and API become RawTips, and tipsters stay anonymous."""

from __future__ import annotations

import base64
import html
import io
import logging
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from PIL import Image
from pydantic import SecretStr

from ingest.contact import new_key_pair, open_contact
from ingest.i18n import LANGUAGES, load_catalogues
from ingest.memory import MemorySink
from ingest.photos import MediaStore
from ingest.producer import UnconfirmedError
from ingest.tip_ids import TipIds
from ingest.web import ObjectCatalogue, create_app
from ingest.web_form import form_tipster
from schemas.tip import MAX_BODY_CHARS
from tipline.core.errors import BackpressureError, ConfigurationError, TransientError
from tipline.core.settings import Settings

API_KEY = "acme-key-0123456789abcdef"
OTHER_KEY = "other-key-0123456789abcdef"
CLIENT_IP = "203.0.113.77"
MESSAGES = load_catalogues()


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "web_secure_cookies": False,
        "web_api_keys": {"acme": SecretStr(API_KEY), "other": SecretStr(OTHER_KEY)},
        "web_source_rate": 100.0,
        "web_source_burst": 100,
        "contact_public_key": CONTACT_PUBLIC,
    }
    values.update(overrides)
    return Settings(**values)


CONTACT_PUBLIC, CONTACT_PRIVATE = new_key_pair()


@pytest.fixture
def sink() -> MemorySink:
    return MemorySink()


@pytest.fixture
def media(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "media")


def client_for(
    sink: MemorySink,
    media: MediaStore,
    *,
    ip: str = CLIENT_IP,
    catalogue: ObjectCatalogue | None = None,
    **overrides: Any,
) -> TestClient:
    app = create_app(make_settings(**overrides), sink, media, catalogue=catalogue)
    return TestClient(app, client=(ip, 40000))


@pytest.fixture
def client(sink: MemorySink, media: MediaStore) -> TestClient:
    return client_for(sink, media)


def esc(text: str) -> str:
    """The text as Jinja writes it into a page."""
    return str(escape(text))


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, "form has no CSRF field"
    return match.group(1)


def submit(
    client: TestClient,
    text: str,
    *,
    ref: str = "obj-1",
    lang: str = "en",
    extra: dict[str, str] | None = None,
    photo: bytes | None = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    page = client.get(f"/objects/{ref}?lang={lang}")
    data = {"csrf": token if token is not None else csrf_of(page.text), "text": text}
    data.update(extra or {})
    files = {"photo": ("holiday.jpg", photo or b"", "image/jpeg")}
    return client.post(
        f"/objects/{ref}/tips?lang={lang}", data=data, files=files, headers=headers or {}
    )


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif.get_ifd(0x8825)[27] = "GPSMARK-47.07N-15.44E"
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 30)).save(buf, "JPEG", exif=exif.tobytes())
    return buf.getvalue()


def api(client: TestClient, payload: Any, key: str | None = API_KEY, **kwargs: Any) -> Any:
    headers = {"authorization": f"Bearer {key}"} if key is not None else {}
    headers.update(kwargs.pop("headers", {}))
    return client.post("/api/tips", json=payload, headers=headers, **kwargs)


# --- the page ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept_language", "query", "lang"),
    [
        ("de-AT,de;q=0.9,en;q=0.5", "", "de"),
        ("fr-FR", "", "fr"),
        ("es-419,es;q=0.9", "", "es"),
        ("it", "", "it"),
        ("pl-PL,pl;q=0.9,en-US;q=0.8", "", "pl"),
        ("ja", "", "en"),
        ("de", "?lang=pl", "pl"),
        ("pl", "?lang=xx", "pl"),
    ],
)
def test_page_language_follows_browser_and_switcher(
    client: TestClient, accept_language: str, query: str, lang: str
) -> None:
    page = client.get(f"/objects/obj-1{query}", headers={"accept-language": accept_language})
    assert page.status_code == 200
    assert f'<html lang="{lang}" dir="ltr">' in page.text
    assert page.headers["content-language"] == lang
    t = MESSAGES[lang]
    for key in ("page_title", "tip_label", "submit", "anonymity_note"):
        assert esc(t[key]) in page.text
    # the form posts back in the same language
    assert f'action="/objects/obj-1/tips?lang={lang}"' in page.text


def test_switcher_offers_every_language_in_itself(client: TestClient) -> None:
    page = client.get("/objects/obj-1").text
    for code, name in LANGUAGES.items():
        assert f'href="?lang={code}" hreflang="{code}" lang="{code}"' in page
        assert esc(name) in page


def test_every_form_control_has_a_label(client: TestClient) -> None:
    page = client.get("/objects/obj-1").text
    controls = re.findall(r'<(?:input|textarea)[^>]*\bid="([^"]+)"', page)
    assert set(controls) >= {"text", "photo", "consent", "contact"}
    for control in controls:
        assert f'<label for="{control}"' in page, control


def test_page_loads_nothing_from_elsewhere_and_runs_no_script(client: TestClient) -> None:
    page = client.get("/objects/obj-1").text
    assert "<script" not in page.lower()
    for url in re.findall(r'(?:src|href|action)="([^"]*)"', page):
        assert url.startswith(("/", "?")), url
    css = client.get("/static/tipline.css")
    assert css.status_code == 200
    assert "url(" not in css.text and "@import" not in css.text


def test_security_headers(client: TestClient) -> None:
    for response in (client.get("/objects/obj-1"), client.get("/healthz"), api(client, {})):
        headers = response.headers
        assert "default-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["referrer-policy"] == "same-origin"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["cache-control"].split(",")[0] == "no-store"
        assert "server" not in headers


def test_the_only_cookie_is_a_strict_httponly_csrf_token(
    sink: MemorySink, media: MediaStore
) -> None:
    client = client_for(sink, media, web_secure_cookies=True)
    page = client.get("/objects/obj-1")
    cookies = page.headers.get_list("set-cookie")
    assert len(cookies) == 1
    cookie = cookies[0].lower()
    assert cookie.startswith("__host-csrf=")
    for flag in ("httponly", "samesite=strict", "secure", "path=/"):
        assert flag in cookie
    assert "expires" not in cookie and "max-age" not in cookie  # a session cookie
    assert "strict-transport-security" in page.headers
    # Nothing else sets cookies.
    assert not client.get("/healthz").headers.get_list("set-cookie")


def test_catalogue_titles_by_language_and_unknown_objects(
    sink: MemorySink, media: MediaStore
) -> None:
    catalogue = ObjectCatalogue(
        {
            "bag-7": {
                "en": {"title": "A green shopping bag", "description": "Found in 2023."},
                "de": {"title": "Eine grüne Einkaufstasche", "description": "Gefunden 2023."},
            }
        }
    )
    client = client_for(sink, media, catalogue=catalogue)
    assert "Eine grüne Einkaufstasche" in client.get("/objects/bag-7?lang=de").text
    assert "A green shopping bag" in client.get("/objects/bag-7?lang=pl").text  # falls back
    assert client.get("/objects/bag-8").status_code == 404
    response = submit(client, "text", ref="bag-7")
    assert response.status_code == 200
    assert sink.tips[0].object_ref == "bag-7"


@pytest.mark.parametrize("ref", ["-x", "a" * 65, "a%20b", "..", "a;b"])
def test_malformed_object_ids_are_not_found(client: TestClient, ref: str) -> None:
    assert client.get(f"/objects/{ref}").status_code == 404


def test_catalogue_file_is_validated(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.json"
    path.write_text('{"../etc": {"en": {"title": "x"}}}', encoding="utf-8")
    with pytest.raises(ConfigurationError):
        ObjectCatalogue.load(path)
    path.write_text('{"ok-1": {"en": {"title": "Bag"}}}', encoding="utf-8")
    assert ObjectCatalogue.load(path).page("ok-1", "en", "{ref}") is not None


def test_openapi_describes_the_api_and_no_cdn_docs(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/api/tips"]["post"]
    body_schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert {"message_id", "body"} <= set(body_schema["required"])
    assert {"202", "401", "429", "503"} <= set(operation["responses"])
    assert "/objects/{object_ref}" not in schema["paths"]
    assert client.get("/docs").status_code == 404


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


# --- the form ------------------------------------------------------------------------------


def test_form_tip_is_translated_and_acknowledged_with_a_reference_only(
    client: TestClient, sink: MemorySink
) -> None:
    marker = f"Seen in a Lidl in Graz {uuid.uuid4()}"
    response = submit(client, marker, lang="de")
    assert response.status_code == 200
    (tip,) = sink.tips
    assert tip.channel == "web"
    assert tip.object_ref == "obj-1"
    assert tip.body == marker  # translated, not cleaned
    assert re.fullmatch(r"w-[a-z2-7]{26}", tip.tip_id)
    assert tip.tip_id in response.text
    assert marker not in response.text
    assert esc(MESSAGES["de"]["receipt_title"]) in response.text
    assert tip.channel_meta.keys() == {"interface", "sender", "ui_lang"}
    assert (tip.channel_meta["interface"], tip.channel_meta["ui_lang"]) == ("form", "de")
    assert re.fullmatch(r"form-session:[0-9a-f]{32}", str(tip.channel_meta["sender"]))


def test_one_browser_session_is_one_tipster_and_nothing_identifies_it(
    sink: MemorySink, media: MediaStore
) -> None:
    browser, other = client_for(sink, media), client_for(sink, media)
    submit(browser, "Lidl in Graz")
    submit(browser, "Or maybe Hofer, also in Graz")
    submit(other, "Lidl in Graz")
    first, second, third = (tip.channel_meta["sender"] for tip in sink.tips)
    assert first == second != third
    cookie = browser.cookies.get("csrf")  # web_secure_cookies off in these tests
    assert cookie and cookie not in str(first) and CLIENT_IP not in str(first)


def test_the_session_pseudonym_rotates_with_its_period() -> None:
    ids = TipIds(b"form-tipster-secret-0123456789")
    token = "t" * 43
    at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    same = form_tipster(ids, token, at + timedelta(hours=1), 24)
    assert form_tipster(ids, token, at, 24) == same
    assert form_tipster(ids, token, at + timedelta(hours=24), 24) != same
    assert form_tipster(ids, "u" * 43, at, 24) != same
    # Keyed: another secret gives an unrelated pseudonym for the same session.
    assert form_tipster(TipIds(b"another-secret-0123456789abc"), token, at, 24) != same


def test_tip_ids_are_unique(client: TestClient, sink: MemorySink) -> None:
    for _ in range(20):
        submit(client, "same text")
    assert len({tip.tip_id for tip in sink.tips}) == 20


@pytest.mark.parametrize(
    ("consent", "contact", "kept"),
    [
        ("yes", "jane@example.org", "jane@example.org"),
        ("yes", "  +43 660 1234567 ", "+43 660 1234567"),
        (None, "jane@example.org", None),  # no consent: the contact is dropped
        ("on", "jane@example.org", None),  # only the form's own value counts
        ("yes", "   ", None),
    ],
)
def test_contact_is_kept_only_with_consent_and_only_sealed(
    client: TestClient, sink: MemorySink, consent: str | None, contact: str, kept: str | None
) -> None:
    extra = {"contact": contact}
    if consent is not None:
        extra["consent"] = consent
    response = submit(client, "the bag is from Rossmann", extra=extra)
    assert response.status_code == 200
    (tip,) = sink.tips
    if kept is None:
        assert tip.sealed_contact is None
    else:
        assert tip.sealed_contact is not None
        assert open_contact(tip.sealed_contact, CONTACT_PRIVATE) == kept
    if contact.strip():
        # Nowhere in the clear: not in the text, not in channel_meta, not in the receipt.
        assert contact.strip() not in tip.model_dump_json()
        assert contact.strip() not in response.text


def test_without_an_investigators_key_no_contact_is_asked_for_or_taken(
    sink: MemorySink, media: MediaStore
) -> None:
    client = client_for(sink, media, contact_public_key=None)
    page = client.get("/objects/obj-1").text
    assert 'name="contact"' not in page and 'name="consent"' not in page
    submit(client, "the bag is from Rossmann", extra={"consent": "yes", "contact": "a@b.org"})
    assert sink.tips[0].sealed_contact is None
    refused = api(
        client,
        {"message_id": "m-9", "body": "b", "contact_consent": True, "contact": "a@b.org"},
    )
    assert refused.status_code == 422
    assert "a@b.org" not in refused.text
    assert len(sink.tips) == 1


def test_client_address_is_never_in_the_tip_or_the_log(
    client: TestClient, sink: MemorySink, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    marker = f"text-{uuid.uuid4()}"
    submit(client, marker, extra={"consent": "yes", "contact": "contact-marker@example.org"})
    api(client, {"message_id": "m-1", "body": marker})
    assert len(sink.tips) == 2
    for tip in sink.tips:
        assert CLIENT_IP not in tip.model_dump_json()
    for record in caplog.records:
        line = record.getMessage()
        assert CLIENT_IP not in line
        assert marker not in line
        assert "contact-marker" not in line
    assert any(tip.tip_id in r.getMessage() for r in caplog.records for tip in sink.tips)


@pytest.mark.parametrize(
    ("text", "status", "message_id"),
    [
        ("", 422, "error_empty"),
        ("   \n\t ", 422, "error_empty"),
        ("x" * 20_001, 422, "error_too_long"),
    ],
)
def test_invalid_text_is_refused_without_a_tip(
    client: TestClient, sink: MemorySink, text: str, status: int, message_id: str
) -> None:
    response = submit(client, text, lang="it")
    assert response.status_code == status
    assert esc(MESSAGES["it"][message_id]) in response.text
    assert sink.tips == []


def test_longest_text_is_accepted(client: TestClient, sink: MemorySink) -> None:
    assert submit(client, "y" * 20_000).status_code == 200
    assert len(sink.tips[0].body) == 20_000


@pytest.mark.parametrize(
    ("token", "headers"),
    [
        ("", {}),
        ("A" * 43, {}),  # well-formed but not the cookie's
        (None, {"origin": "https://evil.example"}),
    ],
)
def test_csrf_and_foreign_origins_are_refused(
    client: TestClient, sink: MemorySink, token: str | None, headers: dict[str, str]
) -> None:
    response = submit(client, "text", token=token, headers=headers)
    assert response.status_code == 403
    assert sink.tips == []


def test_form_without_the_cookie_is_refused(sink: MemorySink, media: MediaStore) -> None:
    first = client_for(sink, media)
    token = csrf_of(first.get("/objects/obj-1").text)
    stranger = client_for(sink, media)  # another browser: no cookie
    response = stranger.post("/objects/obj-1/tips", data={"csrf": token, "text": "x"})
    assert response.status_code == 403
    assert sink.tips == []


def test_same_origin_header_is_accepted(client: TestClient, sink: MemorySink) -> None:
    response = submit(client, "text", headers={"origin": "http://testserver"})
    assert response.status_code == 200


def test_photo_is_sanitised_and_stored(
    client: TestClient, sink: MemorySink, media: MediaStore
) -> None:
    original = jpeg_with_gps()
    response = submit(client, "photo of the bag", photo=original)
    assert response.status_code == 200
    (tip,) = sink.tips
    (attachment,) = tip.attachments
    stored = media.path_for(attachment.sha256).read_bytes()
    assert b"GPSMARK" in original
    assert b"GPSMARK" not in stored
    assert stored != original
    assert (attachment.width, attachment.height) == (40, 30)
    assert len(list(media.root.rglob("*.jpg"))) == 0  # stored by digest, not by upload name


@pytest.mark.parametrize(
    "photo",
    [b"%PDF-1.7\n%%EOF", b"PK\x03\x04" + b"\x00" * 100, jpeg_with_gps()[:200]],
    ids=["pdf", "zip", "truncated"],
)
def test_bad_photo_refuses_the_tip_and_stores_nothing(
    client: TestClient, sink: MemorySink, media: MediaStore, photo: bytes
) -> None:
    response = submit(client, "text", lang="fr", photo=photo)
    assert response.status_code == 422
    assert esc(MESSAGES["fr"]["error_photo"]) in response.text
    assert sink.tips == []
    assert not media.root.exists() or not any(p.is_file() for p in media.root.rglob("*"))


def test_oversize_upload_is_refused_before_parsing(client: TestClient, sink: MemorySink) -> None:
    response = submit(client, "text", photo=b"\xff\xd8\xff" + b"\x00" * (11 * 1024 * 1024))
    assert response.status_code == 413
    assert sink.tips == []


# --- acknowledgement only after the broker -------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "retry_after", "message"),
    [
        (TransientError("broker down"), "5", "error_busy"),
        (BackpressureError(7.2), "8", "error_busy"),
        # Sent but not acknowledged in time: it may be stored, so never "not saved".
        (TimeoutError(), "5", "error_unconfirmed"),
        (UnconfirmedError("no ack"), "5", "error_unconfirmed"),
    ],
)
def test_unacknowledged_tip_answers_503_with_retry_after(
    client: TestClient, sink: MemorySink, failure: Exception, retry_after: str, message: str
) -> None:
    sink.fail = failure
    page = submit(client, "text", lang="pl")
    assert page.status_code == 503
    assert page.headers["retry-after"] == retry_after
    assert re.search(r"w-[a-z2-7]{26}", page.text) is None  # no receipt
    assert esc(MESSAGES["pl"][message]) in page.text
    response = api(client, {"message_id": "m-9", "body": "text"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == retry_after
    assert "tip_id" not in response.json()


# --- rate limits ---------------------------------------------------------------------------


def test_per_source_rate_limit(sink: MemorySink, media: MediaStore) -> None:
    app = create_app(make_settings(web_source_rate=0.01, web_source_burst=2), sink, media)
    one = TestClient(app, client=("198.51.100.1", 1))
    two = TestClient(app, client=("198.51.100.2", 1))
    assert [submit(one, "t").status_code for _ in range(3)] == [200, 200, 429]
    refused = submit(one, "t", lang="es")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert esc(MESSAGES["es"]["error_rate"]) in refused.text
    assert submit(two, "t").status_code == 200  # another source is not affected
    assert len(sink.tips) == 3


def test_global_rate_limit(sink: MemorySink, media: MediaStore) -> None:
    app = create_app(make_settings(web_global_rate=0.01, web_global_burst=3), sink, media)
    statuses = [
        submit(TestClient(app, client=(f"192.0.2.{i}", 1)), "t").status_code for i in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]


def test_per_partner_rate_limit(sink: MemorySink, media: MediaStore) -> None:
    client = client_for(sink, media, web_partner_rate=0.01, web_partner_burst=2)
    statuses = [api(client, {"message_id": f"m{i}", "body": "b"}).status_code for i in range(3)]
    assert statuses == [202, 202, 429]
    assert api(client, {"message_id": "x", "body": "b"}, key=OTHER_KEY).status_code == 202


# --- the partner API -----------------------------------------------------------------------


def test_api_tip_is_translated_with_a_namespaced_id(client: TestClient, sink: MemorySink) -> None:
    payload = {
        "message_id": "msg-42",
        "object_ref": "bag-7",
        "object_refs": ["bag-8"],
        "subject": "Bag",
        "body": "I bought this bag at Pepco in Kraków.",
    }
    response = api(client, payload)
    assert response.status_code == 202
    tip_id = response.json()["tip_id"]
    assert response.json()["status"] == "accepted"
    # Namespaced by partner and keyed: the partner's own message id does not lead to the tip.
    assert tip_id.startswith("p-acme-")
    assert "msg-42" not in tip_id
    (tip,) = sink.tips
    assert (tip.tip_id, tip.channel, tip.object_ref, tip.object_refs) == (
        tip_id,
        "web",
        "bag-7",
        ("bag-8",),
    )
    assert (tip.subject, tip.body) == (payload["subject"], payload["body"])
    assert tip.channel_meta == {"interface": "api", "partner": "acme"}
    # A resent call keeps its id, so the sink stores it once; another partner's id differs.
    assert api(client, payload).json()["tip_id"] == tip_id
    other = api(client, payload, key=OTHER_KEY).json()["tip_id"]
    assert other.startswith("p-other-")
    assert other.removeprefix("p-other-") != tip_id.removeprefix("p-acme-")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": "Bearer wrong-key-0123456789"},
        {"authorization": "Bearer "},
        {"authorization": f"Basic {API_KEY}"},
        {"x-api-key": API_KEY[:-1]},
    ],
)
def test_api_without_a_valid_key_is_401(
    client: TestClient, sink: MemorySink, headers: dict[str, str]
) -> None:
    response = api(client, {"message_id": "m", "body": "b"}, key=None, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert sink.tips == []


def test_api_accepts_the_x_api_key_header(client: TestClient, sink: MemorySink) -> None:
    response = api(
        client, {"message_id": "m", "body": "b"}, key=None, headers={"x-api-key": API_KEY}
    )
    assert response.status_code == 202


@pytest.mark.parametrize(
    "payload",
    [
        {"body": "SECRET-BODY-MARKER"},  # no message_id
        {"message_id": "m", "body": ""},
        {"message_id": "../m", "body": "SECRET-BODY-MARKER"},
        {"message_id": "m", "body": "SECRET-BODY-MARKER", "ip": "1.2.3.4"},  # unknown field
        {"message_id": "m", "body": "x" * 20_001},
        {"message_id": "m", "body": "SECRET-BODY-MARKER", "object_ref": "SECRET-REF-MARKER;"},
        {"message_id": "m", "body": "SECRET-BODY-MARKER", "photos": ["SECRET-not-base64!"]},
        [],
    ],
)
def test_invalid_api_tips_are_422_without_echo(
    client: TestClient, sink: MemorySink, payload: Any
) -> None:
    response = api(client, payload)
    assert response.status_code == 422
    assert "SECRET" not in response.text
    assert "x" * 100 not in response.text
    assert sink.tips == []


def test_api_photo_and_contact(client: TestClient, sink: MemorySink, media: MediaStore) -> None:
    photo = base64.b64encode(jpeg_with_gps()).decode()
    payload = {
        "message_id": "m-photo",
        "body": "see photo",
        "photos": [photo],
        "contact_consent": True,
        "contact": "reach-me@example.org",
    }
    assert api(client, payload).status_code == 202
    (tip,) = sink.tips
    assert b"GPSMARK" not in media.path_for(tip.attachments[0].sha256).read_bytes()
    assert tip.sealed_contact is not None
    assert open_contact(tip.sealed_contact, CONTACT_PRIVATE) == "reach-me@example.org"
    assert "reach-me" not in tip.model_dump_json()
    without_consent = {**payload, "message_id": "m-2", "contact_consent": False}
    assert api(client, without_consent).status_code == 202
    assert sink.tips[1].sealed_contact is None


def test_api_bad_photo_is_422(client: TestClient, sink: MemorySink) -> None:
    payload = {"message_id": "m", "body": "b", "photos": [base64.b64encode(b"%PDF-1.4").decode()]}
    response = api(client, payload)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["photos", 0]
    assert sink.tips == []


@pytest.mark.parametrize(
    "keys",
    [
        {"acme": SecretStr("short")},
        {"": SecretStr(API_KEY)},
        {"bad name": SecretStr(API_KEY)},
        {"a" * 33: SecretStr(API_KEY)},
    ],
)
def test_weak_keys_and_bad_partner_names_stop_start_up(
    media: MediaStore, keys: dict[str, SecretStr]
) -> None:
    with pytest.raises(ConfigurationError):
        create_app(make_settings(web_api_keys=keys), MemorySink(), media)


# --- properties ----------------------------------------------------------------------------

_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"),
    min_size=12,
    max_size=400,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=_TEXT)
def test_form_body_round_trips_and_is_never_echoed(
    client: TestClient, sink: MemorySink, text: str
) -> None:
    assume(len(set(text.strip())) >= 6)
    sink.tips.clear()
    response = submit(client, text)
    assert response.status_code == 200
    assert sink.tips[-1].body == text
    assert text not in response.text
    assert esc(text) not in response.text
    assert html.escape(text) not in response.text


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=_TEXT, subject=st.text(max_size=100))
def test_api_body_round_trips_and_is_never_echoed(
    client: TestClient, sink: MemorySink, text: str, subject: str
) -> None:
    assume(len(set(text.strip())) >= 6)
    response = api(client, {"message_id": uuid.uuid4().hex, "body": text, "subject": subject})
    assert response.status_code == 202
    assert (sink.tips[-1].body, sink.tips[-1].subject) == (text, subject)
    assert text not in response.text


# --- issue 9 items 6 and 10: idempotent resend, 4-byte characters --------------------------------


def submission_of(page: str) -> str:
    match = re.search(r'name="submission" value="([^"]+)"', page)
    assert match, "the form carries no submission id"
    return match.group(1)


def test_resending_one_form_is_one_tip(client: TestClient, sink: MemorySink) -> None:
    page = client.get("/objects/obj-1?lang=en")
    submission = submission_of(page.text)
    sink.fail = UnconfirmedError("no ack")  # the broker stalls: "not confirmed"
    first = submit(client, "Lidl in Graz", extra={"submission": submission})
    assert first.status_code == 503
    sink.fail = None
    again = submit(client, "Lidl in Graz", extra={"submission": submission})
    third = submit(client, "Lidl in Graz", extra={"submission": submission})
    assert again.status_code == third.status_code == 200
    assert len({t.tip_id for t in sink.tips}) == 1
    assert submission not in sink.tips[0].tip_id  # keyed, like every channel-derived id
    fresh = submit(client, "Lidl in Graz", extra={"submission": submission_of(page.text) + "x"})
    assert fresh.status_code == 200
    other_page = client.get("/objects/obj-1?lang=en")
    assert submission_of(other_page.text) != submission


def test_longest_tip_in_four_byte_characters_is_accepted(
    client: TestClient, sink: MemorySink
) -> None:
    text = "𝔊" * MAX_BODY_CHARS  # 80,000 bytes of UTF-8: over the old 64 kB part limit
    page = submit(client, text)
    assert page.status_code == 200, page.text[:300]
    assert sink.tips[0].body == text


def test_wrong_api_keys_are_throttled(client: TestClient, sink: MemorySink) -> None:
    """300 guesses at a partner key: a handful are checked, the rest refused unchecked."""
    codes = [
        api(client, {"message_id": f"g-{i}", "body": "x"}, key=f"guess-{i:04d}" * 4).status_code
        for i in range(300)
    ]
    assert codes.count(401) <= 12
    assert codes.count(429) >= 280
    # Locked out: even the right key is not looked at, so a lucky guess would not show.
    assert api(client, {"message_id": "ok-1", "body": "x"}).status_code == 429
    assert sink.tips == []
