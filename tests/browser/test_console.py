"""The secretariat's console in real Chromium against a real server: sign in, add, reschedule
across a DST change and cancel, each seen in the feed; refused times; two editors at once;
sign out; keyboard use; axe-core at WCAG 2.1 AA; screenshots for the README."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytz
from playwright.sync_api import Browser, BrowserContext, Page
from sqlmodel import Session

from app import crud
from app.core.db import make_engine
from app.models import MeetingUpdate
from tests.browser.conftest import (
    DOCS,
    NAME,
    PASSWORD,
    Watch,
    axe,
    console_server,
    open_page,
)
from tests.ical_parsers import ParsedEvent, parse_icalendar
from tests.utils.mail import LIST, Inbox, calendar_part, smtp_server, wait_for

ROOT = Path(__file__).resolve().parents[2]
GROUP = "ai-in-cities-wg2"
GENEVA = pytz.timezone("Europe/Zurich")


def _next_transition(after: dt.date) -> dt.date:
    """The next day Geneva's clocks change, at least `after`."""
    day = after
    while True:
        noon = [
            GENEVA.localize(dt.datetime.combine(d, dt.time(12)))
            for d in (day, day + dt.timedelta(1))
        ]
        if noon[0].utcoffset() != noon[1].utcoffset():
            return day + dt.timedelta(1)
        day += dt.timedelta(1)


TRANSITION = _next_transition(dt.date.today() + dt.timedelta(days=10))
BEFORE = TRANSITION - dt.timedelta(days=7)
AFTER = TRANSITION + dt.timedelta(days=7)


def _utc(day: dt.date, clock: str) -> str:
    wall = dt.datetime.combine(day, dt.time.fromisoformat(clock))
    return GENEVA.localize(wall, is_dst=None).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    """The mailing list's SMTP server (aiosmtpd), so that the forms offer to announce."""
    with smtp_server() as running:
        yield running


STORES: dict[str, str] = {}
CONSOLE = "console"


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory, inbox: Inbox) -> Iterator[str]:
    """A console server of its own whose forms offer to announce (an SMTP server listens)."""
    env = {
        "SMTP_URL": f"smtp://127.0.0.1:{inbox.port}",  # type: ignore[attr-defined]
        "ANNOUNCE_TO": LIST,
    }
    with console_server(tmp_path_factory.mktemp("console"), env) as (url, database):
        STORES[CONSOLE] = database
        yield url


def _context(browser: Browser, **options: Any) -> BrowserContext:
    return browser.new_context(locale="en-GB", timezone_id="America/New_York", **options)


def _sign_in(page: Page, server: str) -> None:
    page.goto(f"{server}/admin")
    assert page.url == f"{server}/admin/login"
    page.get_by_label("Username").fill(NAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server}/admin")
    assert page.get_by_role("heading", name="Dashboard").is_visible()


def _fill_meeting(page: Page, **fields: str) -> None:
    labels = {
        "date": "Date",
        "start": "Start time",
        "end": "End time",
        "title": "Title",
        "description": "Description",
        "join": "Join link",
    }
    if "group" in fields:
        page.get_by_label("Group").select_option(fields["group"])
    if "status" in fields:
        page.get_by_label("Status", exact=True).select_option(fields["status"])
    for key, label in labels.items():
        if key in fields:
            page.get_by_label(label, exact=True).fill(fields[key])


def _save(page: Page) -> str:
    """Save; the uid of the meeting the form was saved to."""
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/admin/meetings/*?saved=1")
    return page.url.split("/admin/meetings/")[1].split("?")[0]


def _event(server: str, uid: str, group: str = GROUP) -> ParsedEvent:
    feed = httpx.get(f"{server}/groups/{group}/calendar.ics")
    assert feed.status_code == 200
    events = [e for e in parse_icalendar(feed.content) if e.uid.split("@")[0] == uid]
    assert len(events) == 1, uid
    return events[0]


@pytest.fixture
def signed_in(console: str, browser: Browser) -> Iterator[tuple[Page, Watch]]:
    context = _context(browser)
    page, watch = open_page(context)
    _sign_in(page, console)
    yield page, watch
    watch.assert_clean()
    context.close()


def test_add_reschedule_across_dst_and_cancel_show_in_the_feed(
    console: str, signed_in: tuple[Page, Watch]
) -> None:
    page, _ = signed_in
    page.get_by_role("link", name="Add a meeting").first.click()
    assert page.get_by_label("Time zone").input_value() == "Europe/Zurich"
    _fill_meeting(
        page,
        group=GROUP,
        date=BEFORE.isoformat(),
        start="15:00",
        end="16:30",
        title="Console timed",
        join="https://meet.example.org/u4ssc",
    )
    timed = _save(page)
    event = _event(console, timed)
    assert (event.start, event.end) == (_utc(BEFORE, "15:00"), _utc(BEFORE, "16:30"))
    assert (event.sequence, event.status, event.all_day) == (0, "CONFIRMED", False)
    # The preview: the feed's summary, Geneva time, UTC, and (by app.js) the reader's time.
    preview = page.locator(".preview")
    assert "Console timed" in preview.locator(".preview-summary").inner_text()
    assert "15:00\N{EN DASH}16:30 Geneva time" in preview.inner_text()
    local = preview.locator(".local")
    assert "Your time (America/New_York)" in local.inner_text()

    page.goto(f"{console}/admin/meetings/new")
    _fill_meeting(page, group=GROUP, date=AFTER.isoformat(), title="Console all-day")
    all_day = _save(page)
    event = _event(console, all_day)
    assert (event.start, event.all_day, event.sequence, event.status) == (
        AFTER.isoformat(),
        True,
        0,
        "CONFIRMED",
    )

    # Across the clock change: same Geneva wall clock, another UTC instant.
    page.goto(f"{console}/admin/meetings/{timed}")
    _fill_meeting(page, date=AFTER.isoformat())
    assert _save(page) == timed
    event = _event(console, timed)
    assert (event.start, event.end) == (_utc(AFTER, "15:00"), _utc(AFTER, "16:30"))
    assert _utc(AFTER, "15:00")[11:13] != _utc(BEFORE, "15:00")[11:13]
    assert (event.sequence, event.status) == (1, "CONFIRMED")

    # Cancel, through its confirmation step: it stays in the feed, cancelled.
    page.goto(f"{console}/admin/meetings/{all_day}")
    page.get_by_role("link", name="Cancel meeting").click()
    assert page.get_by_role("heading", name="Cancel this meeting?").is_visible()
    assert _event(console, all_day).status == "CONFIRMED"  # nothing happened yet
    page.get_by_role("button", name="Yes, cancel the meeting").click()
    page.wait_for_url(f"**/admin/meetings/{all_day}?saved=1")
    event = _event(console, all_day)
    assert (event.sequence, event.status) == (1, "CANCELLED")
    assert page.get_by_role("link", name="Cancel meeting").count() == 0
    # The audit trail names the account.
    page.goto(f"{console}/admin/changes?group={GROUP}")
    rows = page.locator("table.audit tbody tr").all_inner_texts()
    assert any(NAME in row and "Cancelled meeting" in row and all_day in row for row in rows), rows


def test_a_refused_wall_clock_time_is_shown_next_to_start_time(
    console: str, signed_in: tuple[Page, Watch]
) -> None:
    page, watch = signed_in
    page.goto(f"{console}/admin/meetings/new")
    _fill_meeting(
        page,
        group=GROUP,
        date=TRANSITION.isoformat(),
        start="02:30",
        end="03:30",
        title="At the clock change",
        description="Kept as typed",
    )
    page.get_by_role("button", name="Save").click()
    field = page.locator("#field-start_time")
    field.locator(".field-error").wait_for()
    watch.refused(422)
    message = field.locator(".field-error").inner_text()
    reason = "does not exist" if TRANSITION.month == 3 else "happens twice"
    assert f"{TRANSITION.isoformat()} 02:30 {reason} in Europe/Zurich" in message, message
    start = page.get_by_label("Start time")
    assert start.get_attribute("aria-invalid") == "true"
    assert start.get_attribute("aria-describedby") == "error-start_time"
    assert start.input_value() == "02:30"
    assert page.get_by_label("Date").input_value() == TRANSITION.isoformat()
    assert page.get_by_label("Title", exact=True).input_value() == "At the clock change"
    assert page.get_by_label("Description", exact=True).input_value() == "Kept as typed"
    assert page.get_by_label("Group").input_value() == GROUP


def test_two_editors_at_once_the_second_save_is_refused_with_the_change_shown(
    console: str, browser: Browser
) -> None:
    contexts = [_context(browser), _context(browser)]
    try:
        (first, w1), (second, w2) = (open_page(c) for c in contexts)
        for p in (first, second):
            _sign_in(p, console)
        first.goto(f"{console}/admin/meetings/new")
        _fill_meeting(
            first,
            group=GROUP,
            date=AFTER.isoformat(),
            start="10:00",
            end="11:00",
            title="Two editors",
        )
        uid = _save(first)
        second.goto(f"{console}/admin/meetings/{uid}")
        first.goto(f"{console}/admin/meetings/{uid}")
        _fill_meeting(first, title="Renamed by the first")
        _save(first)
        _fill_meeting(second, start="12:00", end="13:00")
        second.get_by_role("button", name="Save").click()
        alert = second.locator(".conflict")
        alert.wait_for()
        w2.refused(409)
        assert "someone changed this while you were editing" in alert.inner_text()
        assert "Title: Two editors → Renamed by the first" in alert.inner_text()
        assert f"Last changed by {NAME}" in alert.inner_text()
        # Nothing of the second save reached the store; what they typed is still there.
        data = httpx.get(f"{console}/api/meetings/{uid}").json()
        assert (data["title"], data["start_time"], data["sequence"]) == (
            "Renamed by the first",
            "10:00",
            1,
        )
        assert second.get_by_label("Start time").input_value() == "12:00"
        w1.assert_clean()
        w2.assert_clean()
    finally:
        for c in contexts:
            c.close()


def test_sign_out_ends_the_session_and_the_old_cookie_no_longer_works(
    console: str, signed_in: tuple[Page, Watch]
) -> None:
    page, _ = signed_in
    cookie = next(c for c in page.context.cookies() if c["name"] == "u4ssc_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    old = {"u4ssc_console": cookie["value"]}
    assert httpx.get(f"{console}/admin", cookies=old).status_code == 200
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{console}/admin/login")
    answer = httpx.get(f"{console}/admin", cookies=old)
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/login"
    page.goto(f"{console}/admin/changes")
    assert page.url == f"{console}/admin/login"


def test_sign_in_and_a_meeting_by_keyboard_alone(
    console: str, browser: Browser, inbox: Inbox
) -> None:
    context = _context(browser)
    try:
        page, watch = open_page(context)
        page.goto(f"{console}/admin/login")
        # The username field has the focus on arrival (autofocus, which Chromium may apply a
        # moment after load on a busy machine); Tab goes on to the password, Enter sends.
        page.wait_for_function("document.activeElement?.id === 'username'")
        page.keyboard.type(NAME)
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{console}/admin")
        page.goto(f"{console}/admin/meetings/new?group={GROUP}")
        page.get_by_label("Date").focus()
        page.keyboard.type(AFTER.strftime("%d%m%Y"))
        # Date and time fields have a stop per part (day, month, year; hours, minutes).
        visited = _tab_to(page, "title")
        assert [i for i in dict.fromkeys(visited) if i] == [
            "date",
            "start_time",
            "end_time",
            "timezone",
        ]
        page.keyboard.type("By keyboard")
        assert "description" in _tab_to(page, "announce")
        page.keyboard.press("Space")  # "Announce to the mailing list", ticked by keyboard
        assert page.get_by_label("Announce to the mailing list").is_checked()
        _tab_to(page, "save")
        page.keyboard.press("Enter")
        page.wait_for_url("**/admin/meetings/*?saved=1")
        uid = page.url.split("/admin/meetings/")[1].split("?")[0]
        event = _event(console, uid)
        assert (event.start, event.all_day) == (AFTER.isoformat(), True)

        def announced() -> list[ParsedEvent]:
            return [
                e
                for m in inbox.messages
                for e in parse_icalendar(calendar_part(m))
                if e.uid == event.uid
            ]

        wait_for(lambda: bool(announced()), "the announcement of the meeting")
        assert [(e.uid, e.sequence) for e in announced()] == [(event.uid, event.sequence)]
        watch.assert_clean()
    finally:
        context.close()


def _tab_to(page: Page, target: str, limit: int = 30) -> list[str]:
    """Press Tab until the element with id `target` has the focus; the ids passed on the way."""
    visited: list[str] = []
    for _ in range(limit):
        focused = page.evaluate("document.activeElement.id")
        if focused == target:
            return visited
        visited.append(focused)
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{target}: {visited}")


def test_every_page_passes_axe_core_at_wcag_21_aa(console: str, browser: Browser) -> None:
    # The test injects axe itself: the pages' own CSP would refuse the inline copy.
    context = _context(browser, bypass_csp=True)
    try:
        page, watch = open_page(context)
        found: dict[str, list[dict[str, Any]]] = {}
        for path in ("/", f"/groups/{GROUP}", "/groups/ai-in-cities", "/admin/login"):
            page.goto(console + path)
            found[path] = axe(page)
        page.goto(f"{console}/admin/login")
        page.get_by_label("Username").fill(NAME)
        page.get_by_label("Password").fill("wrong password here")
        page.get_by_role("button", name="Sign in").click()
        page.locator("#sign-in-error").wait_for()
        watch.refused(400)
        found["/admin/login (refused)"] = axe(page)
        _sign_in(page, console)
        found["/admin"] = axe(page)
        page.goto(f"{console}/admin/meetings/new")
        found["/admin/meetings/new"] = axe(page)
        _fill_meeting(
            page,
            group=GROUP,
            date=TRANSITION.isoformat(),
            start="02:30",
            end="01:00",
            join="not a link",
        )
        page.get_by_role("button", name="Save").click()
        page.locator(".field-error").first.wait_for()
        watch.refused(422)
        found["/admin/meetings/new (errors)"] = axe(page)
        page.goto(f"{console}/admin/changes")
        found["/admin/changes"] = axe(page)
        page.goto(f"{console}/admin/changes?group={GROUP}")
        found["/admin/changes?group"] = axe(page)
        page.goto(f"{console}/admin/groups")
        found["/admin/groups"] = axe(page)
        page.goto(f"{console}/admin/groups/{GROUP}")
        found["/admin/groups/{slug}"] = axe(page)
        uid = httpx.get(f"{console}/api/meetings", params={"group": GROUP}).json()["data"][0]["uid"]
        for path in (f"/admin/meetings/{uid}", f"/admin/meetings/{uid}/cancel"):
            page.goto(console + path)
            found[path] = axe(page)
        assert {path: v for path, v in found.items() if v} == {}
        # And it would see one: an unlabelled field and a low-contrast text on the last page.
        page.evaluate(
            """() => {
                document.querySelector("main").insertAdjacentHTML("beforeend",
                  '<input type="text"><p style="color:#bbb;background:#fff">faint</p>');
            }"""
        )
        assert {v["id"] for v in axe(page)} >= {"label", "color-contrast"}
        watch.assert_clean()
    finally:
        context.close()


def test_favicon(console: str) -> None:
    answer = httpx.get(f"{console}/favicon.ico")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/x-icon"
    assert answer.content[:4] == b"\x00\x00\x01\x00"


SCREENSHOT_WIDTHS = (390, 1280)
SEEDED_UID = "ai-in-cities-wg2-2023-07-27"


def test_console_screenshots(console: str, browser: Browser) -> None:
    """The dashboard, a meeting form with an error and the audit trail, at a phone's width and a
    desktop's, in docs/ (issue 24)."""
    names = []
    for width in SCREENSHOT_WIDTHS:
        context = _context(browser, viewport={"width": width, "height": 900})
        try:
            page, watch = open_page(context)
            _sign_in(page, console)
            DOCS.mkdir(exist_ok=True)
            names.append(f"screenshot-console-dashboard-{width}.png")
            page.screenshot(path=str(DOCS / names[-1]), full_page=True)
            page.goto(f"{console}/admin/meetings/new")
            _fill_meeting(
                page,
                group=GROUP,
                date=TRANSITION.isoformat(),
                start="02:30",
                end="03:30",
                title="Kick-off of the working group",
            )
            page.get_by_role("button", name="Save").click()
            page.locator(".field-error").first.wait_for()
            watch.refused(422)
            names.append(f"screenshot-console-meeting-{width}.png")
            page.screenshot(path=str(DOCS / names[-1]), full_page=True)
            page.goto(f"{console}/admin/changes")
            names.append(f"screenshot-console-audit-{width}.png")
            page.screenshot(path=str(DOCS / names[-1]), full_page=True)
            watch.assert_clean()
        finally:
            context.close()
    for name in names:
        assert (DOCS / name).read_bytes().startswith(b"\x89PNG")


CONSOLE_PAGES = (
    "/admin",
    "/admin/meetings/new",
    f"/admin/meetings/{SEEDED_UID}",
    "/admin/groups",
    f"/admin/groups/{GROUP}",
    "/admin/changes",
    f"/admin/changes?group={GROUP}",
)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_every_console_page_fits_a_phone(console: str, browser: Browser, lang: str) -> None:
    """Issue 24, point 8: the audit trail was 589 px wide at 390 px; in Arabic too (issue 26),
    with every box of texts per language open."""
    context = _context(browser, viewport={"width": 390, "height": 844})
    try:
        page, watch = open_page(context)
        _sign_in(page, console)
        page.goto(f"{console}/admin?lang={lang}")  # the choice, kept in the cookie
        wide = {}
        for path in CONSOLE_PAGES:
            page.goto(console + path)
            page.eval_on_selector_all("details", "els => els.forEach(e => { e.open = true; })")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 390:
                wide[path] = width
        assert not wide, f"pages that scroll sideways at 390 px: {wide}"
        watch.assert_clean()
    finally:
        context.close()


def test_the_audit_trail_is_paged_and_filtered(console: str, signed_in: tuple[Page, Watch]) -> None:
    """Issue 24, point 8: the whole trail on one page was 13,451 px tall."""
    page, _ = signed_in
    engine = make_engine(STORES[CONSOLE])
    with Session(engine) as session:  # more than a page of changes, by someone else
        for n in range(55):
            crud.update_meeting(session, SEEDED_UID, MeetingUpdate(title=f"Take {n}"), "ana")
    engine.dispose()
    page.goto(f"{console}/admin/changes")
    rows = page.locator("table.audit tbody tr")
    assert rows.count() == 50
    caption = page.locator("table.audit caption").inner_text()
    assert "page 1 of" in caption, caption
    page.get_by_role("link", name="Older").click()
    assert "page=2" in page.url and rows.count() > 0
    page.goto(f"{console}/admin/changes")
    page.get_by_label("Person").select_option(label="the action plan")
    page.get_by_role("button", name="Show").click()
    who = page.locator("table.audit tbody tr td:nth-child(2)").all_inner_texts()
    assert who and set(who) == {"the action plan"}, who
    page.get_by_label("Person").select_option(label="ana")
    page.get_by_role("button", name="Show").click()
    assert rows.count() == 50 and "55 in all" in page.locator("table.audit caption").inner_text()
    page.goto(f"{console}/admin/changes")
    page.get_by_label("Meeting or group (its id)").fill(SEEDED_UID)
    page.get_by_role("button", name="Show").click()
    keys = page.locator("table.audit tbody tr td:nth-child(3) a").all_inner_texts()
    assert keys and set(keys) == {SEEDED_UID}, keys
