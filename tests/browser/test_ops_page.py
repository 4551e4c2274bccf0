"""The console's /ops page in a real Chromium: the throughput, delay and lag charts render under
the strict CSP, with no script and no console errors; dead letters show by reason with their
safe metadata (stage, error, reason, time, tip id) and never the tip's text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from pydantic import SecretStr
from selenium.webdriver.common.by import By

from review.api import create_app
from schemas import DeadLetter
from store.ops import record_dead_letters, record_lag
from tests.browser.conftest import live_server
from tests.integration.conftest import database_url, postgres_server  # noqa: F401 - fixtures
from tests.integration.test_review_api import make_tip, store
from tipline.core.settings import Settings

TOKEN = "ops-browser-token-0123456789abcdef"
TIP_TEXT = "Anna Berger at Hauptstrasse 5 has the bag"


def dead_letter(i: int, failed_at: datetime, error: str = "RejectedContentError") -> DeadLetter:
    return DeadLetter(
        stage="clean",
        reason="body: text is empty after normalisation",
        error=error,
        source_topic="tips.raw",
        partition=0,
        offset=100 + i,
        tip_id=f"dl-{i}",
        failed_at=failed_at,
        payload=TIP_TEXT,  # a payload the page must never show
    )


def test_ops_page_shows_throughput_delay_and_lag_charts_and_dead_letters(
    browser: Any,
    shoot: Any,
    database_url: str,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC)
    store(
        database_url,
        [make_tip(f"o{i}", 40, received_at=now - timedelta(seconds=3)) for i in range(5)],
    )
    with psycopg.connect(database_url, autocommit=True) as conn:
        # A surge: lag sampled over the last five minutes (two workers write the same slot).
        for back, lag in ((5, 0), (4, 120), (3, 480), (2, 200), (1, 0)):
            at = now - timedelta(minutes=back)
            record_lag(conn, {"tips.raw": lag, "tips.clean": lag // 4}, at)
            record_lag(conn, {"tips.raw": lag, "tips.clean": lag // 4}, at)
        letters = [(f"0-{i}", dead_letter(i, now - timedelta(minutes=i))) for i in range(3)]
        letters.append(("1-0", dead_letter(9, now - timedelta(minutes=2), "DecodeError")))
        record_dead_letters(conn, letters, now, timedelta(days=30))
        record_dead_letters(conn, letters, now, timedelta(days=30))  # recorded twice: once
    settings = Settings(
        database_url=SecretStr(database_url),
        data_dir=tmp_path / "data",
        review_tokens={"alice": SecretStr(TOKEN)},
        review_secure_cookies=False,
    )
    with live_server(create_app(settings)) as base:
        # The token as a Bearer header (the pages accept it like the API): this test is about
        # the page, not the login form, which the console's own browser tests cover.
        browser.execute_cdp_cmd("Network.enable", {})
        browser.execute_cdp_cmd(
            "Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Bearer {TOKEN}"}}
        )
        browser.get(f"{base}/ops?minutes=30")
        shoot(browser, "ops")
        charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart")
        assert len(charts) == 3
        for chart in charts:
            assert chart.size["width"] > 200 and chart.size["height"] > 30
        bars = browser.find_elements(By.CSS_SELECTOR, "svg.chart rect")
        assert len(bars) >= 2  # this minute's tips, in the throughput and delay charts
        lag_chart = charts[2]
        assert "highest 600.0 records" in (lag_chart.get_attribute("aria-label") or "")
        assert len(lag_chart.find_elements(By.TAG_NAME, "rect")) == 5  # one per sampled minute
        reasons = browser.find_elements(By.CSS_SELECTOR, "table.dead-reasons tbody tr")
        cells = [[c.text for c in r.find_elements(By.TAG_NAME, "td")] for r in reasons]
        assert [(c[0], c[1], c[3]) for c in cells] == [
            ("clean", "RejectedContentError", "3"),
            ("clean", "DecodeError", "1"),
        ]
        assert cells[0][2] == "body: text is empty after normalisation"
        latest = browser.find_element(By.CSS_SELECTOR, "table.dead-latest").text
        for i in (0, 1, 2, 9):
            assert f"dl-{i}" in latest
        assert "0-2" in latest and "1-0" in latest
        assert TIP_TEXT not in browser.page_source
        assert not browser.find_elements(By.TAG_NAME, "script")
        errors = [
            e
            for e in browser.get_log("browser")
            if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]  # no icon: not ours
        ]
        assert errors == []
