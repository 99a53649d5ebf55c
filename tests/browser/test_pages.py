"""The pages in real headless Chromium: no console error, exact subscribe links, the feed
builder, local times in other zones, a phone-width layout, /docs offline, and screenshots."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.browser.conftest import CANCELLED_UID, DOCS, open_page
from tests.ical_parsers import parse_icalendar


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Zurich")
    yield context
    context.close()


def _href(page: Page, feed: str, kind: str) -> str | None:
    return page.locator(f'[data-feed="{feed}"] a[data-kind="{kind}"]').get_attribute("href")


def _expected_links(https: str, name: str) -> dict[str, str]:
    webcal = "webcal://" + https.split("://", 1)[1]
    return {
        "https": https,
        "webcal": webcal,
        "google": "https://calendar.google.com/calendar/r?cid=" + quote(webcal, safe=""),
        "outlook": "https://outlook.live.com/calendar/0/addfromweb?url="
        + quote(https, safe="")
        + "&name="
        + quote(name, safe=""),
    }


def test_index_loads_without_console_errors_or_outside_requests(
    server: str, context: BrowserContext
) -> None:
    page, watch = open_page(context)
    page.goto(f"{server}/")
    page.locator(".builder-result").wait_for(state="visible")
    assert page.locator("button.copy").first.is_visible()
    assert page.locator("header").count() == 1
    assert page.locator("nav").count() >= 1
    assert page.locator("main").count() == 1
    assert page.locator("footer").count() == 1
    levels = page.eval_on_selector_all(
        "h1, h2, h3, h4, h5, h6", "els => els.map(e => Number(e.tagName[1]))"
    )
    assert levels[0] == 1
    assert all(b - a <= 1 for a, b in pairwise(levels)), levels
    watch.assert_clean()


def test_subscribe_links_are_exact(server: str, context: BrowserContext) -> None:
    page, watch = open_page(context)
    page.goto(f"{server}/")
    everything = _expected_links(f"{server}/calendar.ics", "U4SSC meetings")
    assert everything["google"] == (
        "https://calendar.google.com/calendar/r?cid=webcal%3A%2F%2F127.0.0.1%3A"
        + server.rsplit(":", 1)[1]
        + "%2Fcalendar.ics"
    )
    for kind, url in everything.items():
        assert _href(page, "all", kind) == url, kind
    assert page.locator("#url-all").input_value() == f"{server}/calendar.ics"
    group = httpx.get(f"{server}/api/groups/ai-in-cities-wg2").json()
    assert group["feed_url"] == f"{server}/groups/ai-in-cities-wg2/calendar.ics"
    wg2 = _expected_links(group["feed_url"], "U4SSC: Autonomous Cities (WG2)")
    assert wg2["webcal"] == group["webcal_url"]
    for kind, url in wg2.items():
        assert _href(page, "ai-in-cities-wg2", kind) == url, kind
    assert page.locator("#url-ai-in-cities-wg2").input_value() == group["feed_url"]
    for link in page.locator('a[href$=".ics"][download]').all()[:5]:
        href = link.get_attribute("href")
        assert href is not None and href.startswith("/meetings/")
        assert httpx.get(server + href).status_code == 200
    watch.assert_clean()


def _feed_uids(url: str) -> set[str]:
    response = httpx.get(url)
    assert response.status_code == 200
    return {event.uid.split("@", 1)[0] for event in parse_icalendar(response.content)}


def _api_uids(server: str, groups: list[str]) -> set[str]:
    data = httpx.get(f"{server}/api/meetings", params={"group": groups, "limit": 1000}).json()
    # The chosen groups have no cancelled meeting, so the feed holds all of them.
    assert all(m["status"] != "cancelled" for m in data["data"])
    return {m["uid"] for m in data["data"]}


def test_feed_builder_url_holds_exactly_the_chosen_groups(
    server: str, context: BrowserContext
) -> None:
    page, watch = open_page(context)
    page.goto(f"{server}/")
    page.locator("#pick-procurement-wg2").check()
    page.locator("#pick-people-centred-cities").check()
    url = f"{server}/calendar.ics?group=procurement-wg2&group=people-centred-cities"
    box = page.locator(".builder-result")
    assert box.locator("input.feed-url").input_value() == url
    labels = [
        page.locator(f"#pick-{slug}").get_attribute("data-label")
        for slug in ("procurement-wg2", "people-centred-cities")
    ]
    assert labels[0] == (
        "Methodology to support cities to implement the procurement guidelines (WG2)"
    )
    name = "U4SSC: " + " + ".join(str(label) for label in labels)
    for kind, expected in _expected_links(url, name).items():
        assert box.locator(f'a[data-kind="{kind}"]').get_attribute("href") == expected, kind
    chosen = _api_uids(server, ["procurement-wg2", "people-centred-cities"])
    assert len(chosen) >= 8
    assert _feed_uids(url) == chosen
    # One box ticked: the group's own feed, the URL the JSON gives for it.
    page.locator("#pick-people-centred-cities").uncheck()
    single = box.locator("input.feed-url").input_value()
    assert single == httpx.get(f"{server}/api/groups/procurement-wg2").json()["feed_url"]
    assert _feed_uids(single) == _api_uids(server, ["procurement-wg2"])
    watch.assert_clean()


def test_feed_builder_works_without_javascript(server: str, browser: Browser) -> None:
    context = browser.new_context(java_script_enabled=False, accept_downloads=True)
    try:
        page, watch = open_page(context)
        page.goto(f"{server}/")
        assert page.locator(".builder-result").is_hidden()
        page.locator("#pick-digital-wellbeing").check()
        page.locator("#pick-city-platforms-wg6").check()
        with page.expect_request(lambda r: "/calendar.ics?" in r.url) as request:
            page.get_by_role("button", name="Get the combined feed").click()
        url = request.value.url
        assert url == f"{server}/calendar.ics?group=city-platforms-wg6&group=digital-wellbeing"
        assert _feed_uids(url) == _api_uids(server, ["city-platforms-wg6", "digital-wellbeing"])
        watch.assert_clean()
    finally:
        context.close()


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("America/New_York", "10:00\N{EN DASH}11:00"),
        ("Asia/Tokyo", "23:00\N{EN DASH}00:00"),
        ("Europe/Zurich", "16:00\N{EN DASH}17:00"),
    ],
)
def test_local_times_in_the_readers_zone(
    server: str, browser: Browser, zone: str, expected: str
) -> None:
    context = browser.new_context(locale="en-GB", timezone_id=zone)
    try:
        page, watch = open_page(context)
        page.goto(f"{server}/groups/ai-in-cities-wg2")
        # 27 July 2023, 16:00-17:00 Geneva (CEST) = 14:00-15:00 UTC.
        meeting = page.locator("#meeting-ai-in-cities-wg2-2023-09-28")
        local = meeting.locator(".local")
        local.wait_for(state="visible")
        assert local.get_attribute("data-zone") == zone
        text = local.inner_text()
        assert "28 September 2023" in text
        assert expected in text, text
        july = page.locator(f"#meeting-{CANCELLED_UID} .local").inner_text()
        assert "27 July 2023" in july and expected in july, july
        # Geneva time and UTC stay as they are, whatever the reader's zone.
        assert "16:00\N{EN DASH}17:00 Geneva time (CEST)" in meeting.inner_text()
        assert "14:00\N{EN DASH}15:00 UTC" in meeting.inner_text()
        watch.assert_clean()
    finally:
        context.close()


def test_cancelled_meeting_is_struck_through(server: str, context: BrowserContext) -> None:
    page, watch = open_page(context)
    page.goto(f"{server}/groups/ai-in-cities-wg2")
    meeting = page.locator(f"#meeting-{CANCELLED_UID}")
    assert "Cancelled" in meeting.locator(".badge").inner_text()
    decoration = meeting.locator("s").evaluate("e => getComputedStyle(e).textDecorationLine")
    assert "line-through" in decoration
    watch.assert_clean()


def test_every_time_of_a_cancelled_meeting_is_struck_including_the_readers(
    server: str, context: BrowserContext
) -> None:
    """Issue 24, point 15: the reader's-time line of a cancelled meeting was not struck."""
    page, watch = open_page(context)
    page.goto(f"{server}/groups/ai-in-cities-wg2")
    local = page.locator(f"#meeting-{CANCELLED_UID} .local")
    local.wait_for(state="visible")
    struck = local.evaluate("e => e.closest('s') !== null")
    assert struck, "the reader's time of a cancelled meeting is not struck through"
    watch.assert_clean()


def test_past_meetings_are_under_past_meetings_on_the_home_page(
    server: str, context: BrowserContext
) -> None:
    """Issue 24, point 15: 2023 meetings were "Recent" in December 2026."""
    page, watch = open_page(context)
    page.goto(f"{server}/")
    labels = {text.lower() for text in page.locator(".list-label").all_text_contents()}
    assert "recent" not in labels
    assert "past meetings" in labels
    watch.assert_clean()


@pytest.mark.parametrize("path", ["/", "/groups/ai-in-cities-wg2"])
def test_without_javascript_no_control_that_needs_it_shows(
    server: str, browser: Browser, path: str
) -> None:
    """Issue 24, point 7: "Copy URL" showed and did nothing (button{display} beat `hidden`)."""
    context = browser.new_context(java_script_enabled=False)
    try:
        page, watch = open_page(context)
        page.goto(server + path)
        page.eval_on_selector_all("details", "els => els.forEach(e => { e.open = true; })")
        copies = page.locator("button.copy")
        assert copies.count() > 0
        shown = [i for i in range(copies.count()) if copies.nth(i).is_visible()]
        assert shown == [], f"{len(shown)} Copy URL buttons show without JavaScript"
        watch.assert_clean()
    finally:
        context.close()
    # With the script, they show and work.
    context = browser.new_context()
    try:
        page, watch = open_page(context)
        page.goto(server + path)
        page.eval_on_selector_all("details", "els => els.forEach(e => { e.open = true; })")
        assert page.locator("button.copy").first.is_visible()
        watch.assert_clean()
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize("path", ["/", "/groups/ai-in-cities", "/groups/city-platforms-wg5"])
def test_nothing_scrolls_sideways_at_375px(
    server: str, browser: Browser, path: str, lang: str
) -> None:
    """Arabic too (issue 26): a right-to-left page must not spill over its left edge."""
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="en-GB")
    try:
        page, watch = open_page(context)
        page.goto(f"{server}{path}?lang={lang}")
        # Open every subscribe box too: their long URLs are the likeliest to overflow.
        page.eval_on_selector_all("details", "els => els.forEach(e => { e.open = true; })")
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], widths
        watch.assert_clean()
    finally:
        context.close()


def test_docs_render_with_the_network_blocked(server: str, context: BrowserContext) -> None:
    page, watch = open_page(context)
    page.goto(f"{server}/docs")
    page.locator(".opblock").first.wait_for(state="visible")
    assert page.locator(".opblock").count() >= 10
    summaries = page.locator(".opblock-summary-path").all_inner_texts()
    assert any(text.replace("\u200b", "") == "/api/meetings" for text in summaries), summaries
    watch.assert_clean()


def test_screenshots(server: str, browser: Browser) -> None:
    context = browser.new_context(
        viewport={"width": 1280, "height": 1800}, locale="en-GB", timezone_id="America/New_York"
    )
    try:
        page, watch = open_page(context)
        DOCS.mkdir(exist_ok=True)
        page.goto(f"{server}/")
        page.locator(".builder-result").wait_for(state="visible")
        page.screenshot(path=str(DOCS / "screenshot-index.png"))
        # Full page at a shorter window: the image ends where the page does.
        page.set_viewport_size({"width": 1280, "height": 800})
        page.goto(f"{server}/groups/ai-in-cities")
        page.locator(".local").first.wait_for(state="visible")
        page.screenshot(path=str(DOCS / "screenshot-group.png"), full_page=True)
        watch.assert_clean()
    finally:
        context.close()
    for name in ("screenshot-index.png", "screenshot-group.png"):
        assert (DOCS / name).read_bytes().startswith(b"\x89PNG")
