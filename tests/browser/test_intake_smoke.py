"""The public intake in a real browser: a phone-sized Chromium sends a tip and gets a receipt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By

from ingest.memory import MemorySink
from ingest.photos import MediaStore
from ingest.web import create_app
from tests.browser.conftest import follow, live_server
from tipline.core.settings import Settings


def test_a_tipster_on_a_phone_sends_a_tip_and_gets_a_receipt(
    phone: Any, shoot: Any, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, web_secure_cookies=False)
    sink = MemorySink()
    app = create_app(settings, sink, MediaStore(tmp_path / "media"))
    with live_server(app) as base:
        phone.get(f"{base}/objects/7")
        shoot(phone, "object-page")
        phone.find_element(By.NAME, "text").send_keys("Saw this bag in a Lidl in Graz")
        follow(phone, By.CSS_SELECTOR, "form button[type=submit], form input[type=submit]")
        shoot(phone, "receipt")
        assert phone.find_elements(By.CSS_SELECTOR, "h1")
    assert [tip.body for tip in sink.tips] == ["Saw this bag in a Lidl in Graz"]
