"""The anonymous two-way follow-up in real Chromium: a tipster on a phone sends a tip and keeps
the receipt code; an analyst asks a question; the tipster opens the follow-up page with the code,
reads the question and answers; the analyst sees the (redacted) answer beside the tip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By

from ingest.memory import MemorySink
from ingest.photos import MediaStore
from ingest.web import create_app as create_intake
from review.api import create_app as create_review
from tests.browser.conftest import analyst_session, follow, live_server
from tests.browser.leads_support import publish_bag, settings_for, store


def test_ask_the_tipster_a_question_and_read_the_answer(
    phone: Any, browser: Any, shoot: Any, database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(database_url, tmp_path)
    publish_bag(settings, tmp_path)
    sink = MemorySink()
    intake = create_intake(settings, sink, MediaStore(tmp_path / "media"))
    review = create_review(settings)
    with live_server(intake) as public, live_server(review) as console:
        phone.get(f"{public}/objects/bag-7")
        phone.find_element(By.NAME, "text").send_keys("Sold at Rossmann in Kraków in 2019.")
        follow(phone, By.CSS_SELECTOR, "form button[type=submit]")
        code = phone.find_element(By.ID, "followup-code").text
        assert len(code.replace("-", "")) == 26
        # Copied by hand from a phone: it may wrap between its groups, never inside one, and
        # neither it nor the tip reference runs off the screen.
        broken = phone.execute_script(
            "return [...document.querySelectorAll('#followup-code .group')]"
            ".filter(g => g.getClientRects().length > 1).length"
        )
        assert broken == 0
        # The tip reference fits one line: a tipster reads it out on the phone.
        assert (
            phone.execute_script(
                "return document.querySelector('.reference code').getClientRects().length"
            )
            == 1
        )
        assert phone.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth"
        )
        shoot(phone, "tipster-receipt-with-code")
        [original] = store(database_url, sink.tips)

        analyst_session(browser, console, review)
        browser.get(f"{console}/tips/{original.tip_id}")
        follow(browser, By.LINK_TEXT, "Follow-up with the tipster")
        browser.find_element(By.ID, "question").send_keys(
            "Thank you. Which Rossmann in Kraków was it, roughly where in the city?"
        )
        shoot(browser, "analyst-writes-question")
        follow(browser, By.CSS_SELECTOR, "form[action$='/followup'] button")
        assert "Which Rossmann in Kraków" in browser.page_source
        shoot(browser, "analyst-question-asked")

        follow(phone, By.LINK_TEXT, "Check for questions about your tip")
        phone.find_element(By.ID, "code").send_keys(code.upper())
        shoot(phone, "tipster-enters-code")
        follow(phone, By.CSS_SELECTOR, "form button[type=submit]")
        asked = phone.find_element(By.CSS_SELECTOR, "blockquote.asked").text
        assert "Which Rossmann in Kraków" in asked
        shoot(phone, "tipster-reads-question")
        phone.find_element(By.NAME, "text").send_keys(
            "The one in Galeria Krakowska by the station. Call me: +48 601 234 567."
        )
        follow(phone, By.CSS_SELECTOR, "section.question button[type=submit]")
        assert "your answer has been received" in phone.page_source
        shoot(phone, "tipster-answer-sent")
        # No horizontal scrolling on a phone.
        assert phone.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth"
        )

        answer = sink.tips[-1]
        assert answer.follow_up_of == original.tip_id
        store(database_url, [answer])
        browser.refresh()
        body = browser.find_element(By.CSS_SELECTOR, ".answer .body").text
        assert "Galeria Krakowska" in body
        assert "601 234 567" not in body  # redacted like any tip
        shoot(browser, "analyst-sees-answer")
