"""Issue 12, the expert's journey in a real browser: sign in, open the decision that awaits the
verdict, and give it from the top of the decision page, at desktop and phone widths. The
clicks are counted; screenshots go to /tmp/shots/expert2/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.test_expert_and_tester_journeys import an_expert_with_a_decision_to_approve

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/shots/expert2")


@pytest.mark.parametrize("width,height", [(1440, 900), (390, 844)])
def test_an_expert_gives_a_verdict_from_the_top_of_the_decision(
    demo_db_copy, start_app, page, wait_idle, sign_in_as, width, height
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    case = an_expert_with_a_decision_to_approve(demo_db_copy)
    base = start_app(demo_db_copy)
    page.goto(f"{base}/decision?key={case['key']}")  # the link in the notice or the queue
    sign_in_as(page, case["email"])  # in the sidebar, open at desktop width
    page.set_viewport_size({"width": width, "height": height})
    wait_idle(page)
    heading = page.get_by_role("heading", name="Your verdict awaits")
    expect(heading).to_be_visible()
    box = heading.bounding_box()
    assert box and box["y"] < 3 * height  # reachable without scrolling past the whole record
    page.screenshot(path=str(SHOTS / f"verdict-{width}.png"))
    clicks = 0
    page.get_by_role("button", name="Give verdict").click()  # no choice made yet
    clicks += 1
    expect(page.get_by_text("a comment alone gives no verdict")).to_be_visible()
    page.get_by_test_id("stRadio").filter(has_text="Your verdict").get_by_text(
        "Approve", exact=True
    ).click()
    page.get_by_role("button", name="Give verdict").click()
    clicks += 2
    wait_idle(page)
    expect(page.get_by_text("Your verdict is recorded")).to_be_visible()
    page.screenshot(path=str(SHOTS / f"verdict-given-{width}.png"), full_page=True)
    assert clicks == 3  # a refused empty submit, then choose and give
