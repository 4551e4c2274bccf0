"""The ops endpoints in front of an app: metrics, readiness, and the drain switch."""

from __future__ import annotations

import json
import urllib.request

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tipline.health import Drain, OpsMiddleware, OpsServer, Readiness


def app_with(checks: dict, drain: Drain | None = None) -> TestClient:
    inner = FastAPI()

    @inner.post("/api/tips")
    def tips() -> dict[str, str]:
        return {"status": "accepted"}

    @inner.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return TestClient(OpsMiddleware(inner, "web", Readiness(checks), drain))


def test_readyz_names_the_failing_check() -> None:
    client = app_with({"broker": lambda: None, "database": lambda: "database unavailable"})
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "ready": False,
        "checks": {"broker": "ok", "database": "database unavailable"},
    }


def test_a_check_that_raises_is_unready_not_a_crash() -> None:
    def broken() -> str | None:
        raise RuntimeError("boom")

    response = app_with({"broker": broken}).get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "check failed: RuntimeError"


def test_draining_refuses_work_with_retry_after_but_answers_health() -> None:
    drain = Drain()
    client = app_with({"broker": lambda: None}, drain)
    assert client.post("/api/tips").status_code == 200
    drain.draining = True
    refused = client.post("/api/tips")
    assert refused.status_code == 503
    assert int(refused.headers["retry-after"]) > 0
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503  # load balancers stop sending
    metrics = client.get("/metrics").text
    assert 'tipline_http_refused_total{service="web",status="503"}' in metrics


def test_ops_server_serves_the_three_endpoints_on_its_own_port() -> None:
    server = OpsServer("127.0.0.1", 0, Readiness({"group": lambda: "rebalancing"})).start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        with urllib.request.urlopen(f"{base}/healthz", timeout=5) as r:
            assert r.status == 200
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as r:
            assert b"tipline_tips_stored_total" in r.read()
        try:
            urllib.request.urlopen(f"{base}/readyz", timeout=5)
            raise AssertionError("ready while rebalancing")
        except urllib.error.HTTPError as exc:
            assert exc.code == 503
            assert json.loads(exc.read())["checks"] == {"group": "rebalancing"}
    finally:
        server.stop()
