"""Issue 26: every page a person sees, in each of the six UN languages. A page speaks the
language `?lang=` names, then the one remembered in the cookie, then Accept-Language's, then
English; it says so in `<html lang dir>`, offers the others in a menu, leaves no English word of
the catalog outside elements marked `lang="en"` (tests/utils/english.py), and asks for its
feeds in its language."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from html.parser import HTMLParser

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.i18n import languages
from app.main import create_app
from tests.api.test_secretariat import signed_in
from tests.conftest import AUTH, BASE_URL
from tests.delivery.test_invitations import invite_settings
from tests.utils.english import english_left
from tests.utils.invites import confirmation_token, to
from tests.utils.mail import Inbox, smtp_server, wait_for

TRANSLATED = [lang for lang in languages.LANGUAGES if lang != languages.DEFAULT]
PAGE = {"Accept": "text/html"}
ORIGIN = {"Origin": BASE_URL}
GROUP = "ai-in-cities-wg2"


def _spring_forward(after: dt.date) -> dt.date:
    """The last Sunday of March after `after`: Geneva's clocks skip 02:00-03:00."""
    year = after.year + 1
    day = dt.date(year, 3, 31)
    return day - dt.timedelta(days=(day.weekday() + 1) % 7)


class _Page(HTMLParser):
    """The root's lang and dir, the language menu's links, and what each element is marked."""

    def __init__(self) -> None:
        super().__init__()
        self.root: dict[str, str | None] = {}
        self.menu: list[dict[str, str | None]] = []
        self.in_menu = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.root = attributes
        if tag == "nav" and "languages" in (attributes.get("class") or ""):
            self.in_menu = True
        if self.in_menu and tag == "a":
            self.menu.append(attributes)

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self.in_menu = False


def _hidden(html: str) -> dict[str, str]:
    """A form's hidden fields (its CSRF token and one-time key), as a browser sends them."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def _read(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def assert_speaks(answer: httpx2.Response, lang: str) -> None:
    """The page is in `lang`, says so, offers the six languages, and varies as it should."""
    page = _read(answer.text)
    assert page.root.get("lang") == lang
    assert page.root.get("dir") == ("rtl" if lang == "ar" else "ltr")
    assert [a.get("hreflang") for a in page.menu] == list(languages.NAMES)
    assert [a.get("lang") for a in page.menu] == list(languages.NAMES)
    current = [a.get("hreflang") for a in page.menu if a.get("aria-current") == "true"]
    assert current == [lang]
    assert all("lang=" in (a.get("href") or "") for a in page.menu)
    assert answer.headers["vary"].startswith("Accept-Language, Cookie")
    assert answer.headers["content-language"] == lang
    if lang != languages.DEFAULT:
        assert english_left(answer.text, lang) == []


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_public_pages_speak_each_language(client: TestClient, lang: str) -> None:
    for path in ("/", f"/groups/{GROUP}", "/groups/ai-in-cities"):
        answer = client.get(path, params={"lang": lang})
        assert answer.status_code == 200
        assert_speaks(answer, lang)
    # The menu names each language in itself, and this page in each.
    menu = _read(client.get(f"/groups/{GROUP}", params={"lang": lang}).text).menu
    assert [a.get("href") for a in menu] == [f"/groups/{GROUP}?lang={c}" for c in languages.NAMES]
    missing = client.get("/groups/no-such-group", params={"lang": lang})
    assert missing.status_code == 404
    assert_speaks(missing, lang)
    error = client.get("/no/such/page", params={"lang": lang}, headers=PAGE)
    assert error.status_code == 404
    assert_speaks(error, lang)
    expired = client.get("/subscriptions/confirm", params={"token": "gone", "lang": lang})
    assert expired.status_code == 404
    assert_speaks(expired, lang)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_console_speaks_each_language(app: FastAPI, engine: Engine, lang: str) -> None:
    login = TestClient(app, base_url=BASE_URL).get("/admin/login", params={"lang": lang})
    assert_speaks(login, lang)
    browser = signed_in(app, engine)
    dashboard = browser.get("/admin", params={"lang": lang})
    assert dashboard.headers["cache-control"] == "no-store"
    assert_speaks(dashboard, lang)
    for path in ("/admin/groups", f"/admin/groups/{GROUP}", "/admin/changes"):
        assert_speaks(browser.get(path), lang)  # the cookie remembers the choice


@pytest.mark.parametrize("lang", TRANSLATED)
def test_a_time_the_clocks_skip_is_refused_in_the_readers_language(
    app: FastAPI, engine: Engine, lang: str
) -> None:
    browser = signed_in(app, engine)
    form = _hidden(browser.get("/admin/meetings/new", params={"lang": lang}).text)
    day = _spring_forward(dt.date.today())
    form.update(group=GROUP, date=day.isoformat(), start_time="02:30", end_time="03:30")
    form.update(timezone="Europe/Zurich", status="confirmed", title="At the clock change")
    refused = browser.post("/admin/meetings/new", data=form, headers=ORIGIN)
    assert refused.status_code == 422
    assert_speaks(refused, lang)
    (said,) = re.findall(r'<p class="field-error" id="error-start_time">(.*?)</p>', refused.text)
    # Said in the language, with the day, the time and the zone exactly as they were.
    assert "does not exist" not in said and 'lang="en"' not in said
    assert day.isoformat() in said and "02:30" in said and "Europe/Zurich" in said
    # The form is kept as typed; a form the catalog does not know stays English, marked so.
    assert 'value="At the clock change"' in refused.text


def test_the_cookie_then_accept_language_then_english_choose(client: TestClient) -> None:
    chosen = client.get("/", params={"lang": "fr"})
    assert chosen.cookies.get(languages.COOKIE) == "fr"
    assert 'lang="fr"' in chosen.text.split(">", 2)[1]
    # The next page, without ?lang=, is in French: the cookie remembers.
    assert_speaks(client.get(f"/groups/{GROUP}"), "fr")
    # ?lang= beats the cookie, and is remembered in turn.
    assert_speaks(client.get("/", params={"lang": "zh"}), "zh")
    assert_speaks(client.get("/"), "zh")
    client.cookies.clear()
    assert_speaks(client.get("/", headers={"Accept-Language": "ru-RU, en;q=0.5"}), "ru")
    assert_speaks(client.get("/", headers={"Accept-Language": "de-CH, de;q=0.9"}), "en")
    # A language the service does not speak is no error: English, and nothing remembered.
    unknown = client.get("/", params={"lang": "xx"})
    assert unknown.status_code == 200
    assert_speaks(unknown, "en")
    assert languages.COOKIE not in unknown.cookies
    assert_speaks(client.get("/"), "en")


def _hrefs(html: str, feed: str) -> dict[str, str]:
    box = html.split(f'data-feed="{feed}"', 1)[1].split('class="copy-row"', 1)[0]
    return dict(re.findall(r'data-kind="([a-z]+)" href="([^"]+)"', box))


def test_a_pages_feed_links_ask_for_its_language(client: TestClient) -> None:
    french = client.get("/", params={"lang": "fr"}).text
    everything = _hrefs(french, "all")
    assert everything["https"] == f"{BASE_URL}/calendar.ics?lang=fr"
    assert everything["webcal"] == "webcal://calendar.example.org/calendar.ics?lang=fr"
    assert everything["google"].endswith("%2Fcalendar.ics%3Flang%3Dfr")
    assert (
        "url=https%3A%2F%2Fcalendar.example.org%2Fcalendar.ics%3Flang%3Dfr&"
        in (everything["outlook"])
    )
    group = _hrefs(french, GROUP)["https"]
    assert group == f"{BASE_URL}/groups/{GROUP}/calendar.ics?lang=fr"
    assert 'href="/meetings/ai-in-cities-wg2-2023-07-27.ics?lang=fr"' in french
    # The builder without script sends the language with the groups; its script adds it last.
    assert '<input type="hidden" name="lang" value="fr">' in french
    assert 'data-lang="fr"' in french
    # The language on a link is the feed's to read: it is accepted, and answers a calendar.
    assert client.get(group.removeprefix(BASE_URL)).status_code == 200
    english = client.get("/", params={"lang": "en"}).text
    assert _hrefs(english, "all")["https"] == f"{BASE_URL}/calendar.ics"
    assert 'name="lang"' not in english and "?lang=" not in _hrefs(english, GROUP)["https"]


def test_arabic_pages_are_right_to_left_and_the_rest_left_to_right(client: TestClient) -> None:
    for lang in languages.LANGUAGES:
        root = _read(client.get("/admin/login", params={"lang": lang}).text).root
        assert root.get("dir") == ("rtl" if lang == "ar" else "ltr"), lang


def test_the_english_check_sees_english_where_it_is_not_marked(client: TestClient) -> None:
    english = client.get("/", params={"lang": "en"}).text
    # The English page said to be French: its words are found, unless marked English.
    posing = english.replace('<html lang="en"', '<html lang="fr"', 1)
    found = english_left(posing, "fr")
    assert "Subscribe to every meeting" in found and "Build your own feed" in found
    marked = posing.replace('<main id="main">', '<main id="main" lang="en">', 1)
    assert "Build your own feed" not in english_left(marked, "fr")


def test_a_page_shows_a_translated_text_and_marks_the_english_it_falls_back_to(
    client: TestClient,
) -> None:
    french = {"fr": {"name": "Villes autonomes", "scope": "Portée en français"}}
    patched = client.patch(f"/api/groups/{GROUP}", json={"translations": french}, headers=AUTH)
    assert patched.status_code == 200, patched.text
    titled = {"translations": {"fr": {"title": "Réunion de lancement"}}}
    meeting = "ai-in-cities-wg2-2023-09-28"
    assert client.patch(f"/api/meetings/{meeting}", json=titled, headers=AUTH).status_code == 200
    page = client.get(f"/groups/{GROUP}", params={"lang": "fr"}).text
    assert_speaks(client.get(f"/groups/{GROUP}", params={"lang": "fr"}), "fr")
    h1 = page.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert "Villes autonomes" in h1 and 'lang="en"' not in h1
    assert '<p class="scope">Portée en français</p>' in page
    block = page.split(f'id="meeting-{meeting}"', 1)[1].split("</li>", 1)[0]
    assert '<span class="meeting-title">Réunion de lancement</span>' in block
    # A meeting with no title of its own is called by the group's French name, in French.
    other = page.split('id="meeting-ai-in-cities-wg2-2023-07-27"', 1)[1].split("</li>", 1)[0]
    assert (
        '<span class="meeting-title">AI in cities WG2 Villes autonomes\u00a0: réunion électronique'
        in other
    )
    # The thematic group's name has no French: English, marked so.
    assert '<a href="/groups/ai-in-cities"><span lang="en">' in page
    # In Spanish, nothing is translated: the French never shows.
    spanish = client.get(f"/groups/{GROUP}", params={"lang": "es"}).text
    assert "Villes autonomes" not in spanish and "Réunion de lancement" not in spanish
    # English pages are as they were.
    english = client.get(f"/groups/{GROUP}", params={"lang": "en"}).text
    assert "Villes autonomes" not in english and 'lang="en"><span' not in english


def test_the_console_edits_texts_per_language_through_the_same_save(
    app: FastAPI, engine: Engine
) -> None:
    browser = signed_in(app, engine)
    page = browser.get(f"/admin/groups/{GROUP}", params={"lang": "ru"}).text
    # One closed box per language, each named in itself, its fields typed in its direction.
    for code, name in languages.NAMES.items():
        if code != "en":
            assert f'<summary><span lang="{code}">{name}</span></summary>' in page
    assert 'name="tr_ar_name"' in page and 'lang="ar" dir="rtl"' in page
    form = {**_hidden(page), **_group_fields(page)}
    form.update(tr_zh_name="自动驾驶城市", tr_ar_scope="نطاق العمل")
    saved = browser.post(f"/admin/groups/{GROUP}", data=form, headers=ORIGIN)
    assert saved.status_code == 303, saved.text
    stored = browser.get(f"/api/groups/{GROUP}").json()["translations"]
    assert stored == {"ar": {"scope": "نطاق العمل"}, "zh": {"name": "自动驾驶城市"}}
    again = browser.get(f"/admin/groups/{GROUP}").text
    assert '<details class="language" open>\n    <summary><span lang="zh">' in again
    assert "自动驾驶城市" in again
    # A text too long is refused beside its own field, in the reader's language.
    form = {**_hidden(again), **_group_fields(again), "tr_fr_name": "x" * 201}
    refused = browser.post(f"/admin/groups/{GROUP}", data=form, headers=ORIGIN)
    assert refused.status_code == 422
    assert_speaks(refused, "ru")
    assert 'id="error-tr_fr_name"' in refused.text and "200" in refused.text
    assert 'aria-describedby="error-tr_fr_name"' in refused.text
    # A meeting's title and description likewise, on the create form.
    new = browser.get("/admin/meetings/new").text
    form = _hidden(new)
    form.update(group=GROUP, date="2031-05-06", start_time="10:00", end_time="11:00")
    form.update(timezone="Europe/Zurich", status="confirmed", title="Kick-off")
    form.update(tr_es_title="Inicio", tr_es_description="Orden del día")
    made = browser.post("/admin/meetings/new", data=form, headers=ORIGIN)
    assert made.status_code == 303, made.text
    uid = made.headers["location"].split("/admin/meetings/")[1].split("?")[0]
    meeting = browser.get(f"/api/meetings/{uid}").json()
    assert meeting["translations"] == {"es": {"title": "Inicio", "description": "Orden del día"}}


_INPUT = re.compile(r'<input id="[^"]+" name="([^"]+)"(?: type="text")? value="([^"]*)"')
_AREA = re.compile(r'<textarea id="[^"]+" name="([^"]+)"[^>]*>(.*?)</textarea>', re.S)


def _group_fields(page: str) -> dict[str, str]:
    """The group form's visible fields as a browser sends them (inputs and text areas)."""
    found = [*_INPUT.findall(page), *_AREA.findall(page)]
    return {**{name: html.unescape(value) for name, value in found}, "status": "ongoing"}


@pytest.fixture
def mail_client(database_url: str) -> Iterator[tuple[TestClient, Inbox]]:
    """A service that mails invitations, and the SMTP server it mails them to."""
    with smtp_server() as inbox:
        settings = invite_settings(database_url, inbox.port)  # type: ignore[attr-defined]
        with TestClient(create_app(settings)) as client:
            yield client, inbox


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_subscription_pages_speak_each_language(
    mail_client: tuple[TestClient, Inbox], lang: str
) -> None:
    client, inbox = mail_client
    client.get("/", params={"lang": lang})  # the choice, kept in the cookie
    refused = client.post("/subscriptions", data={"email": "not an address", "groups": GROUP})
    assert refused.status_code == 422
    assert_speaks(refused, lang)
    assert "e-mail address" not in refused.text
    email = f"reader-{lang}@example.org"
    asked = client.post("/subscriptions", data={"email": email, "groups": GROUP, "language": lang})
    assert asked.status_code == 202
    assert_speaks(asked, lang)
    wait_for(lambda: bool(to(inbox, email)), f"the confirmation mail to {email}")
    token = confirmation_token(to(inbox, email)[-1])
    assert_speaks(client.get("/subscriptions/confirm", params={"token": token}), lang)
    confirmed = client.post("/subscriptions/confirm", data={"token": token})
    assert_speaks(confirmed, lang)
    found = re.search(r"/subscriptions/manage\?token=([^\"&]+)", confirmed.text)
    assert found is not None
    manage = client.get("/subscriptions/manage", params={"token": html.unescape(found.group(1))})
    assert_speaks(manage, lang)
    # The invitations' language is the one the page was in, offered by its own name.
    assert f'<option value="{lang}" lang="{lang}" selected>' in manage.text
    left = client.post(
        "/subscriptions/manage", data={"token": html.unescape(found.group(1)), "action": "leave"}
    )
    assert_speaks(left, lang)
