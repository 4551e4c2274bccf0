"""Real headless Chromium for the web apps, as tipsters and analysts meet them.

Debian's ``chromium`` and ``chromium-driver`` are driven by selenium pointed at the system driver
(no driver or browser is downloaded). ``make test`` installs them (scripts/system-deps); under
``CI=true`` a missing browser fails the run instead of skipping it.

Every test can save screenshots with ``shoot(driver, "name")``: they land in
``tests/browser/screenshots/<test>/`` (not committed) for a person to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.integration.conftest import database_url, postgres_server
from tipline.embedded import free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
SCREENSHOTS = Path(__file__).parent / "screenshots"
PHONE = (390, 844)  # a common phone viewport, CSS pixels
DESKTOP = (1366, 900)


def _require_browser() -> None:
    if CHROMIUM and CHROMEDRIVER:
        return
    message = "Chromium and ChromeDriver are needed (apt-get install chromium chromium-driver)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def make_driver(width: int, height: int, language: str = "en") -> Any:
    """A fresh headless Chromium with its own profile (cookies do not leak between tests)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    _require_browser()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # type: ignore[assignment]
    for flag in (
        "--headless=new",
        "--no-sandbox",  # we run as root in CI
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        # The machine's network is closed: background fetches would only fail, slowly.
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--window-size={width},{height}",
        f"--lang={language}",
    ):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    # A click on a submit button returns before the next page is parsed on a loaded machine;
    # lookups wait for their element rather than racing the navigation.
    driver.implicitly_wait(10)
    return driver


# Chromium answers a question about a node from a page that is being torn down with an inspector
# error rather than "stale element" (seen in CI mid-navigation): both mean the page was replaced.
_GONE_NODE = ("does not belong to the document", "No node with given id")


def _replaced(old: Any) -> bool:
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    try:
        old.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if any(sign in str(error.msg) for sign in _GONE_NODE):
            return True
        raise
    return False


def follow(driver: Any, by: str, value: str, timeout_s: float = 30) -> None:
    """Click what ``by``/``value`` finds (a submit button, a link) and wait until the next page
    has replaced this one: a lookup right after a bare click can find the old page's element,
    which goes stale under it on a loaded machine."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(by, value).click()
    WebDriverWait(driver, timeout_s).until(lambda _: _replaced(old))
    WebDriverWait(driver, timeout_s).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


@pytest.fixture
def browser() -> Iterator[Any]:
    """A desktop-sized Chromium for this test."""
    driver = make_driver(*DESKTOP)
    yield driver
    driver.quit()


@pytest.fixture
def phone() -> Iterator[Any]:
    """A phone-sized Chromium for this test."""
    driver = make_driver(*PHONE)
    yield driver
    driver.quit()


@pytest.fixture
def shoot(request: pytest.FixtureRequest) -> Any:
    """``shoot(driver, "step")`` saves a full-window PNG under screenshots/<test>/."""
    folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    count = 0

    def save(driver: Any, step: str) -> Path:
        nonlocal count
        count += 1
        safe = re.sub(r"[^\w.-]+", "_", step)
        path = folder / f"{count:02d}-{safe}.png"
        driver.save_screenshot(str(path))
        return path

    return save


@contextmanager
def live_server(app: Any, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free loopback port in a thread; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# --- the reviewer database for browser tests (leads, follow-up, objects) ----------------------
# The integration suite's embedded PostgreSQL fixtures, reused: a fresh migrated database per
# test. Imported, not copied, so both suites start PostgreSQL the same way.

__all__ = ["database_url", "live_server", "make_driver", "postgres_server"]


def analyst_session(driver: Any, base: str, app: Any, name: str = "ana") -> None:
    """Sign ``driver`` in to the review app at ``base`` as ``name``, through the real login form
    (an analyst account is created for it)."""
    from selenium.webdriver.common.by import By

    from review import accounts

    password = f"{name}-browser-password-0123"
    accounts.add(app.state.review.url, name, "analyst", password)
    driver.get(f"{base}/login")
    driver.find_element(By.NAME, "name").send_keys(name)
    driver.find_element(By.NAME, "password").send_keys(password)
    follow(driver, By.CSS_SELECTOR, "form button[type=submit]")
    assert "/login" not in driver.current_url, driver.page_source[:500]
