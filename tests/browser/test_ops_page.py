"""The console's /ops page in a real Chromium: both charts render under the strict CSP, with no
script and no console errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from selenium.webdriver.common.by import By

from review.api import create_app
from tests.browser.conftest import live_server
from tests.integration.conftest import database_url, postgres_server  # noqa: F401 - fixtures
from tests.integration.test_review_api import make_tip, store
from tipline.core.settings import Settings

TOKEN = "ops-browser-token-0123456789abcdef"


def test_ops_page_shows_throughput_and_delay_charts(
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
        assert len(charts) == 2
        for chart in charts:
            assert chart.size["width"] > 200 and chart.size["height"] > 30
        bars = browser.find_elements(By.CSS_SELECTOR, "svg.chart rect")
        assert len(bars) >= 2  # this minute's tips, in both charts
        assert not browser.find_elements(By.TAG_NAME, "script")
        errors = [
            e
            for e in browser.get_log("browser")
            if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]  # no icon: not ours
        ]
        assert errors == []
