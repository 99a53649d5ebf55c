"""Issue 26 in real Chromium: the language menu chooses and the choice stays; Arabic pages are
mirrored (CSS logical properties) and fit a phone; the page's script speaks the page's language;
axe-core finds nothing in Arabic, Chinese and Russian; screenshots of the Arabic pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.browser.conftest import DOCS, NAME, PASSWORD, axe, console_server, open_page

GROUP = "ai-in-cities-wg2"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with console_server(tmp_path_factory.mktemp("languages"), {}) as (url, _):
        yield url


def _context(browser: Browser, **options: Any) -> BrowserContext:
    return browser.new_context(locale="en-GB", timezone_id="Asia/Tokyo", **options)


def _sign_in(page: Page, server: str, lang: str) -> None:
    page.goto(f"{server}/admin/login?lang={lang}")
    page.locator("#username").fill(NAME)
    page.locator("#password").fill(PASSWORD)
    page.locator("form.console-form button[type=submit]").click()
    page.wait_for_url(f"{server}/admin")


def _root(page: Page) -> list[str | None]:
    return [page.get_attribute("html", "lang"), page.get_attribute("html", "dir")]


def _scrolls_sideways(page: Page) -> bool:
    """Whether the page is wider than the window (the reader would scroll sideways)."""
    widths: list[int] = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    return widths[0] > widths[1]


def test_the_menu_chooses_a_language_and_the_choice_stays(console: str, browser: Browser) -> None:
    context = _context(browser)
    try:
        page, watch = open_page(context)
        page.goto(f"{console}/groups/{GROUP}")
        assert _root(page) == ["en", "ltr"]
        menu = page.get_by_role("navigation", name="Language")
        assert menu.locator("a[aria-current=true]").get_attribute("hreflang") == "en"
        menu.get_by_role("link", name="Français").click()
        page.wait_for_url(f"**/groups/{GROUP}?lang=fr")
        assert _root(page) == ["fr", "ltr"]
        assert page.get_by_role("heading", name="Réunions", exact=True).is_visible()
        # Another page, reached by a link without ?lang=: still French (the cookie).
        page.get_by_role("link", name="Tous les groupes").click()
        page.wait_for_url(f"{console}/")
        assert _root(page) == ["fr", "ltr"]
        page.get_by_role("navigation", name="Langue").get_by_role("link", name="العربية").click()
        assert _root(page) == ["ar", "rtl"]
        menu = page.get_by_role("navigation", name="اللغة")
        assert menu.locator("a[aria-current=true]").get_attribute("lang") == "ar"
        watch.assert_clean()
    finally:
        context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_arabic_pages_are_mirrored(console: str, browser: Browser, width: int) -> None:
    context = _context(browser, viewport={"width": width, "height": 900})
    try:
        page, watch = open_page(context)
        page.goto(f"{console}/groups/{GROUP}?lang=ar")
        # The meeting's coloured edge is on its start side: the right, in Arabic.
        edges = page.locator(".meeting").first.evaluate(
            "e => [getComputedStyle(e).borderRightWidth, getComputedStyle(e).borderLeftWidth]"
        )
        assert edges == ["4px", "0px"]
        # Headings and text start at the right: the page's name ends near the right edge.
        box = page.locator(".site-name a").bounding_box()
        assert box is not None and box["x"] + box["width"] > width - 60, box
        # The heading's first word (the group's code) is at its right end.
        title, code = page.locator("h1").bounding_box(), page.locator("h1 .code").bounding_box()
        assert title is not None and code is not None
        assert abs((title["x"] + title["width"]) - (code["x"] + code["width"])) < 2, (title, code)
        assert not _scrolls_sideways(page)
        # English data (a leader's name) keeps reading left to right inside the Arabic page.
        assert page.locator("dd ul[lang=en]").evaluate("e => getComputedStyle(e).direction") in (
            "rtl",
            "ltr",
        )
        # The same page in English is not mirrored.
        page.goto(f"{console}/groups/{GROUP}?lang=en")
        edges = page.locator(".meeting").first.evaluate(
            "e => [getComputedStyle(e).borderRightWidth, getComputedStyle(e).borderLeftWidth]"
        )
        assert edges == ["0px", "4px"]
        watch.assert_clean()
    finally:
        context.close()


def test_the_pages_script_speaks_the_pages_language(console: str, browser: Browser) -> None:
    context = _context(browser)
    try:
        page, watch = open_page(context)
        page.goto(f"{console}/groups/{GROUP}?lang=ar")
        # The reader's own time (Tokyo) in Arabic words, with its clock in HH:MM digits.
        local = page.locator("#meeting-ai-in-cities-wg2-2023-09-28 .local")
        local.wait_for(state="visible")
        text = local.inner_text()
        assert text.startswith("وقتك (Asia/Tokyo)"), text
        assert "23:00\N{EN DASH}00:00" in text and "سبتمبر" in text, text
        # The feed builder asks for the feed in French, and says what it holds in French.
        page.goto(f"{console}/?lang=fr")
        page.locator("#pick-procurement-wg2").check()
        page.locator("#pick-people-centred-cities").check()
        result = page.locator(".builder-result")
        url = result.locator("input.feed-url").input_value()
        assert url == (
            f"{console}/calendar.ics?group=procurement-wg2&group=people-centred-cities&lang=fr"
        )
        assert result.locator(".builder-summary").inner_text().startswith("Votre flux\u00a0: ")
        page.locator("#pick-people-centred-cities").uncheck()
        single = result.locator("input.feed-url").input_value()
        assert single == f"{console}/groups/procurement-wg2/calendar.ics?lang=fr"
        page.locator("#pick-procurement-wg2").uncheck()
        assert result.locator(".builder-summary").inner_text().startswith("Aucune case cochée")
        watch.assert_clean()
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["ar", "zh", "ru"])
def test_axe_core_finds_nothing_in_arabic_chinese_and_russian(
    console: str, browser: Browser, lang: str
) -> None:
    context = _context(browser, bypass_csp=True)
    try:
        page, watch = open_page(context)
        found: dict[str, list[dict[str, Any]]] = {}
        for path in ("/", f"/groups/{GROUP}", "/admin/login"):
            page.goto(f"{console}{path}?lang={lang}")
            found[path] = axe(page)
        _sign_in(page, console, lang)
        assert _root(page)[0] == lang
        found["/admin"] = axe(page)
        page.goto(f"{console}/admin/groups/{GROUP}")
        page.eval_on_selector_all("details", "els => els.forEach(e => { e.open = true; })")
        found["/admin/groups/{slug}"] = axe(page)
        assert {path: v for path, v in found.items() if v} == {}
        watch.assert_clean()
    finally:
        context.close()


def test_screenshots_of_the_arabic_pages_at_a_phones_width(console: str, browser: Browser) -> None:
    """docs/screenshot-home-ar-390.png (the first screen of the home page) and
    docs/screenshot-console-ar-390.png (the whole dashboard). The width itself is checked by
    test_pages.py and test_console.py, in Arabic as in English."""
    context = _context(browser, viewport=PHONE)
    try:
        page, watch = open_page(context)
        DOCS.mkdir(exist_ok=True)
        page.goto(f"{console}/?lang=ar")
        page.locator(".builder-result").wait_for(state="visible")
        assert not _scrolls_sideways(page)
        page.screenshot(path=str(DOCS / "screenshot-home-ar-390.png"))
        _sign_in(page, console, "ar")
        assert not _scrolls_sideways(page)
        page.screenshot(path=str(DOCS / "screenshot-console-ar-390.png"), full_page=True)
        watch.assert_clean()
    finally:
        context.close()
    for name in ("screenshot-home-ar-390.png", "screenshot-console-ar-390.png"):
        assert (DOCS / name).read_bytes().startswith(b"\x89PNG")
