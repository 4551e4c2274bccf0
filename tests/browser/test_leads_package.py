"""An analyst builds a lead package from a consensus line, downloads it, records it as sent,
and the object's page shows where it went — in real headless Chromium."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from review.api import create_app
from schemas import RawTip
from tests.browser.conftest import analyst_session, follow, live_server
from tests.browser.leads_support import publish_bag, settings_for, store

BODIES = [
    "I bought exactly this bag at Rossmann in Kraków, Poland, in 2019. It hung by the tills.",
    "Rossmann in Poland sold these bags, I saw them in Warsaw in 2020.",
    '=HYPERLINK("http://example.org") Rossmann Poland',
    "Lidl in Graz had a similar one.",
]


def wait_for_file(folder: Path, suffix: str, timeout: float = 20) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [p for p in folder.glob(f"*{suffix}") if p.stat().st_size > 0]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no {suffix} downloaded into {folder}")


def test_an_analyst_builds_downloads_and_sends_a_lead_package(
    browser: Any, shoot: Any, database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(database_url, tmp_path)
    publish_bag(settings, tmp_path)
    store(
        database_url,
        [
            RawTip(
                tip_id=f"w-{i}",
                channel="web",
                received_at="2026-11-30T10:00:00Z",
                object_ref="bag-7",
                body=body,
            )
            for i, body in enumerate(BODIES)
        ],
    )
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    app = create_app(settings)
    with live_server(app) as base:
        analyst_session(browser, base, app)
        browser.get(f"{base}/objects/bag-7")
        shoot(browser, "object-page-before")
        assert "No lead package for this object yet." in browser.page_source
        browser.find_element(By.ID, "lead-country").send_keys("PL")
        Select(browser.find_element(By.ID, "lead-consensus")).select_by_value("shop:Rossmann")
        browser.find_element(By.ID, "lead-notes").send_keys("Three tipsters name Rossmann PL.")
        shoot(browser, "build-form-filled")
        follow(browser, By.CSS_SELECTOR, "form.build-lead button[type=submit]")
        heading = browser.find_element(By.TAG_NAME, "h1").text
        assert heading.startswith("Lead package LP-")
        package_id = heading.removeprefix("Lead package ").strip()
        tips = browser.find_elements(By.CSS_SELECTOR, "article.lead-tip")
        assert len(tips) == 3
        assert "Three tipsters name Rossmann PL." in browser.page_source
        assert (
            browser.execute_script("return document.querySelector('img.lead-object').naturalWidth")
            == 320
        )
        shoot(browser, "report")

        browser.find_element(By.LINK_TEXT, "JSON").click()
        package = json.loads(wait_for_file(downloads, ".json").read_text())
        assert package["package_id"] == package_id and package["country"] == "PL"
        assert len(package["tips"]) == 3
        browser.find_element(By.LINK_TEXT, "CSV (spreadsheet)").click()
        text = wait_for_file(downloads, ".csv").read_text(encoding="utf-8-sig")
        assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text

        browser.find_element(By.ID, "authority").send_keys("Policja KGP, Warsaw")
        follow(browser, By.CSS_SELECTOR, "form[action$='/sent'] button")
        assert "to Policja KGP, Warsaw on" in browser.find_element(By.TAG_NAME, "body").text
        shoot(browser, "report-sent")

        browser.get(f"{base}/objects/bag-7")
        row = browser.find_element(By.XPATH, f"//tr[td/a/code[text()='{package_id}']]")
        assert "Policja KGP, Warsaw" in row.text and "PL" in row.text
        shoot(browser, "object-page-after")
