"""Every route of both web apps is in a table saying who may use it; the test walks the apps'
real route lists, so a new route that is not in the table fails here, and checks for each
route that anonymous, wrong-role and wrong-CSRF requests are refused (issue #8)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from ingest.memory import MemorySink
from ingest.photos import MediaStore
from ingest.web import create_app as create_intake
from review import accounts
from review.api import create_app as create_review
from tipline.core.settings import Settings

pytestmark = pytest.mark.integration

PUBLIC = "public"  # open to anyone by design (the table says why)
ANALYSTS = frozenset({"analyst", "supervisor"})
SUPERVISORS = frozenset({"supervisor"})
EVERYONE = frozenset({"analyst", "supervisor", "ops"})


@dataclass(frozen=True)
class Access:
    who: str | frozenset[str]
    csrf: bool = False  # a state-changing browser request: needs the session's CSRF token
    why: str = ""


REVIEW_ROUTES: dict[tuple[str, str], Access] = {
    ("GET", "/healthz"): Access(PUBLIC, why="liveness probe, says nothing"),
    ("GET", "/login"): Access(PUBLIC, why="the sign-in form"),
    ("POST", "/login"): Access(PUBLIC, csrf=True, why="sign-in; its own form token"),
    ("GET", "/static"): Access(PUBLIC, why="the stylesheet"),
    ("GET", "/api/queue"): Access(ANALYSTS),
    ("GET", "/api/tips/{tip_id}"): Access(ANALYSTS),
    ("POST", "/api/tips/{tip_id}/status"): Access(ANALYSTS, csrf=True),
    ("POST", "/api/claim"): Access(ANALYSTS, csrf=True),
    ("POST", "/api/tips/{tip_id}/verdict"): Access(ANALYSTS, csrf=True),
    ("GET", "/api/objects/{object_ref}/consensus"): Access(ANALYSTS),
    ("GET", "/api/ops/throughput"): Access(EVERYONE),
    ("GET", "/api/openapi.json"): Access(EVERYONE),
    ("GET", "/"): Access(EVERYONE),
    ("POST", "/logout"): Access(EVERYONE, csrf=True),
    ("GET", "/queue"): Access(ANALYSTS),
    ("GET", "/queue/claims"): Access(ANALYSTS),
    ("POST", "/claim"): Access(ANALYSTS, csrf=True),
    ("GET", "/tips/{tip_id}"): Access(ANALYSTS),
    ("POST", "/tips/{tip_id}/status"): Access(ANALYSTS, csrf=True),
    ("POST", "/tips/{tip_id}/verdict"): Access(ANALYSTS, csrf=True),
    ("POST", "/tips/{tip_id}/release"): Access(ANALYSTS, csrf=True),
    ("POST", "/tips/{tip_id}/merge"): Access(ANALYSTS, csrf=True),
    ("POST", "/tips/{tip_id}/split"): Access(ANALYSTS, csrf=True),
    ("GET", "/objects/{object_ref}"): Access(ANALYSTS),
    ("GET", "/ops"): Access(EVERYONE),
    ("GET", "/audit"): Access(SUPERVISORS),
    ("GET", "/media/{sha256}"): Access(ANALYSTS),
    ("GET", "/urgent"): Access(ANALYSTS),
    ("GET", "/api/urgent"): Access(ANALYSTS),
    ("GET", "/objects/{object_ref}/picture"): Access(ANALYSTS),
    ("POST", "/leads"): Access(ANALYSTS, csrf=True),
    ("GET", "/leads/{lead_id}"): Access(ANALYSTS),
    ("GET", "/leads/{lead_id}/package.json"): Access(ANALYSTS),
    ("GET", "/leads/{lead_id}/package.csv"): Access(ANALYSTS),
    ("POST", "/leads/{lead_id}/sent"): Access(ANALYSTS, csrf=True),
    ("GET", "/tips/{tip_id}/followup"): Access(ANALYSTS),
    ("POST", "/tips/{tip_id}/followup"): Access(ANALYSTS, csrf=True),
    ("POST", "/api/leads"): Access(ANALYSTS, csrf=True),
    ("GET", "/api/leads/{lead_id}"): Access(ANALYSTS),
    ("POST", "/api/leads/{lead_id}/sent"): Access(ANALYSTS, csrf=True),
    ("GET", "/api/tips/{tip_id}/questions"): Access(ANALYSTS),
    ("POST", "/api/tips/{tip_id}/questions"): Access(ANALYSTS, csrf=True),
}

# The public intake is public by design: tipsters are anonymous. What guards each route:
INTAKE_ROUTES: dict[tuple[str, str], Access] = {
    ("GET", "/healthz"): Access(PUBLIC, why="liveness probe"),
    ("GET", "/openapi.json"): Access(PUBLIC, why="the partner API's description"),
    ("GET", "/static"): Access(PUBLIC, why="stylesheet"),
    ("GET", "/objects/{object_ref}"): Access(PUBLIC, why="an object's page and tip form"),
    ("GET", "/objects/{object_ref}/picture"): Access(
        PUBLIC, why="a published object's picture (404 until it has one)"
    ),
    ("POST", "/objects/{object_ref}/tips"): Access(
        PUBLIC, csrf=True, why="anonymous tips; the form's double-submit token"
    ),
    ("POST", "/api/tips"): Access("partner", why="partners' API keys"),
    ("POST", "/hooks/{source}"): Access("hmac", why="per-source HMAC signatures"),
}

PASSWORDS = {role: f"{role}-password-0123" for role in EVERYONE}
FILL = {
    "tip_id": "x1",
    "object_ref": "obj1",
    "sha256": "a" * 64,
    "source": "mastodon",
    "lead_id": "LP-20261201-aaaaaa",
}


def routes_of(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route, mounts and included routers too."""
    found: set[tuple[str, str]] = set()

    def walk(routes: list[Any]) -> None:
        for route in routes:
            if hasattr(route, "original_router"):
                walk(route.original_router.routes)
            elif getattr(route, "methods", None):
                found.update((m, route.path) for m in route.methods if m != "HEAD")
            else:  # a Mount: static files
                found.add(("GET", route.path))

    walk(app.routes)
    return found


def url(path: str, stylesheet: str = "review.css") -> str:
    return re.sub(r"\{(\w+)\}", lambda m: FILL[m.group(1)], path) + (
        f"/{stylesheet}" if path == "/static" else ""
    )


@pytest.fixture
def review(database_url: str, tmp_path: Path) -> Iterator[tuple[FastAPI, Settings]]:
    for role, password in PASSWORDS.items():
        accounts.add(database_url, role, role, password)
    settings = Settings(
        database_url=SecretStr(database_url),
        data_dir=tmp_path / "data",
        review_secure_cookies=False,
        review_failures_burst=1000,
        review_login_burst=1000,
    )
    yield create_review(settings), settings


def signed_in(settings: Settings, role: str) -> tuple[TestClient, str]:
    client = TestClient(create_review(settings), follow_redirects=False)
    client.__enter__()
    form = client.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token
    answer = client.post(
        "/login", data={"name": role, "password": PASSWORDS[role], "csrf": token.group(1)}
    )
    assert answer.status_code == 303
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/ops").text)
    assert csrf
    return client, csrf.group(1)


def send(client: TestClient, method: str, path: str, csrf: str | None) -> Any:
    if method == "GET":
        return client.get(url(path))
    if path.startswith("/api/"):
        headers = {"x-csrf-token": csrf} if csrf else {}
        return client.post(url(path), json={**_FIELDS, "tip_ids": ["x1"]}, headers=headers)
    # Every field some form needs, so a refusal is about who asks, not a missing field.
    fields = {**_FIELDS, "other": "x2", "member": "x1", "tip_ids": "x1"}
    return client.post(url(path), data={**fields, "csrf": csrf or ""})


# Every field some form or API body needs, so a refusal is about who asks, not a missing field.
_FIELDS = {
    "status": "reviewing",
    "reason": "lead",
    "object_ref": "obj1",
    "country": "AT",
    "authority": "Police",
    "sent_on": "2026-12-01",
    "question": "Which shop?",
}


def test_every_review_route_is_in_the_table(review: tuple[FastAPI, Settings]) -> None:
    app, _ = review
    assert routes_of(app) == set(REVIEW_ROUTES)


def test_every_intake_route_is_in_the_table(tmp_path: Path) -> None:
    app = create_intake(
        Settings(
            data_dir=tmp_path,
            web_secure_cookies=False,
            webhook_secrets={"mastodon": SecretStr("hook-secret-0123456789abcdef")},
            web_api_keys={"partner": SecretStr("partner-key-0123456789abcdef")},
        ),
        MemorySink(),
        MediaStore(tmp_path / "media"),
    )
    assert routes_of(app) == set(INTAKE_ROUTES)
    client = TestClient(app, follow_redirects=False)
    for (method, path), access in INTAKE_ROUTES.items():
        if method == "GET":
            # Public: never a login wall (the test object has no picture, so that one is 404).
            expected = 404 if path.endswith("/picture") else 200
            assert client.get(url(path, "tipline.css")).status_code == expected, path
        elif access.csrf:
            # Public, but a post without the form's token is refused.
            answer = client.post(url(path), data={"text": "a tip", "csrf": "forged"})
            assert answer.status_code == 403, path
        else:
            answer = client.post(url(path), content=b"{}", headers={"content-type": "x/json"})
            assert answer.status_code in (401, 403), (path, answer.status_code)


def test_anonymous_wrong_role_and_wrong_csrf_are_refused(
    review: tuple[FastAPI, Settings],
) -> None:
    app, settings = review
    clients = {role: signed_in(settings, role) for role in EVERYONE}
    with TestClient(app, follow_redirects=False) as anonymous:
        for (method, path), access in REVIEW_ROUTES.items():
            where = f"{method} {path}"
            if access.who == PUBLIC:
                if access.csrf:  # the login form without its token
                    refused = anonymous.post(
                        url(path), data={"name": "ops", "password": "p", "csrf": "x"}
                    )
                    assert refused.status_code == 403, where
                else:
                    assert send(anonymous, method, path, None).status_code == 200, where
                continue
            answer = send(anonymous, method, path, None)
            assert answer.status_code == (401 if path.startswith("/api/") else 303), where
            assert isinstance(access.who, frozenset)
            for role in EVERYONE - access.who:
                client, csrf = clients[role]
                assert send(client, method, path, csrf).status_code == 403, (where, role)
            if access.csrf:
                role = sorted(access.who)[0]
                client, _ = clients[role]
                answer = send(client, method, path, "forged-" + "x" * 36)
                assert answer.status_code == 403, (where, "csrf")
                if not path.startswith("/api/"):
                    assert "Wrong token" in answer.text, where
    for client, _ in clients.values():
        client.__exit__(None, None, None)
