"""Feeds in the six languages (`?lang=`): every parser reads each one with the instants English
has, one SUMMARY per event, the words from the language's catalog (no English fixed word left),
group and meeting texts from their translations and nowhere else, and each language its own
ETag and 304; an unsupported language is a 422 naming the six."""

from __future__ import annotations

from typing import Any

import icalendar
import pytest
from fastapi.testclient import TestClient

from app.i18n.languages import LANGUAGES
from tests.conftest import AUTH
from tests.utils.feeds import agreed_events, all_meetings, assert_lines_well_formed
from tests.utils.strict_ics import assert_strictly_valid
from tests.utils.words import english_left, ics_text, marked_words

OTHERS = [lang for lang in LANGUAGES if lang != "en"]
WG = "ai-in-cities-wg2"
PARENT = "ai-in-cities"
SEEDED = "ai-in-cities-wg2-2023-07-27"
# The properties that say when and which version: the same bytes in every language.
INSTANTS = ("UID", "DTSTART", "DTEND", "DTSTAMP", "CREATED", "LAST-MODIFIED", "SEQUENCE", "STATUS")
# Texts that show the escaping at work: commas, semicolons, a backslash, a line break.
TITLES = {
    "ar": "الانطلاق؛ مقدمة، الجزء 1",
    "es": "Inicio, parte 1; introducción",
    "fr": "Lancement, partie 1 ; introduction",
    "ru": "Начало, часть 1; введение",
    "zh": "启动会议,第1部分;介绍",
}


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def varied(client: TestClient) -> dict[str, str]:
    """A translated timed meeting with a link, a tentative one, an all-day one in New York's
    zone's group, a cancelled one, and the working group's name translated (not its parent's)."""
    texts = {
        lang: {"title": title, "description": f"{title}\n\\ 2"} for lang, title in TITLES.items()
    }
    joined = _ok(
        client.post(
            "/api/meetings",
            json={
                "group": WG,
                "date": "2030-03-26",
                "start_time": "10:00",
                "end_time": "11:30",
                "title": "Kick-off, part 1; intro",
                "description": "Agenda:\n1. Welcome",
                "join_url": "https://meet.example.org/j/1?pwd=a,b",
                "translations": texts,
            },
            headers=AUTH,
        )
    )
    tentative = _ok(
        client.post(
            "/api/meetings",
            json={"group": WG, "date": "2030-04-02", "status": "tentative"},
            headers=AUTH,
        )
    )
    zoned = _ok(
        client.post(
            "/api/meetings",
            json={
                "group": "procurement",
                "date": "2030-03-10",
                "start_time": "10:00",
                "end_time": "11:00",
                "timezone": "America/New_York",
            },
            headers=AUTH,
        )
    )
    cancelled = _ok(client.delete(f"/api/meetings/{SEEDED}", headers=AUTH))
    names = {lang: {"name": f"{title} (WG2)"} for lang, title in TITLES.items()}
    _ok(client.patch(f"/api/groups/{WG}", json={"translations": names}, headers=AUTH))
    return {
        "joined": joined["uid"],
        "tentative": tentative["uid"],
        "zoned": zoned["uid"],
        "cancelled": cancelled["uid"],
    }


def _paths(uids: dict[str, str]) -> list[str]:
    return [
        "/calendar.ics",
        f"/calendar.ics?group={WG}&group=procurement",
        f"/groups/{PARENT}/calendar.ics",
        f"/groups/{WG}/calendar.ics?alarm=15",
        *(f"/meetings/{uid}.ics" for uid in uids.values()),
    ]


def _in(path: str, lang: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}lang={lang}"


def _get(client: TestClient, path: str) -> bytes:
    response = client.get(path)
    assert response.status_code == 200, (path, response.text)
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    data: bytes = response.content
    return data


def _instants(data: bytes) -> list[tuple[bytes | str, ...]]:
    calendar = icalendar.Calendar.from_ical(data)
    return [
        tuple(event[name].to_ical() for name in INSTANTS if name in event)
        for event in calendar.walk("VEVENT")
    ]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_parser_reads_each_language_with_the_instants_english_has(
    client: TestClient, varied: dict[str, str], lang: str
) -> None:
    feeds = []
    for path in _paths(varied):
        english = _get(client, path)
        data = _get(client, _in(path, lang))
        assert_lines_well_formed(data)
        events, expected = agreed_events(data), agreed_events(english)
        # The same events at the same instants, statuses, versions and reminders.
        assert [e.__dict__ | {"summary": ""} for e in events] == [
            e.__dict__ | {"summary": ""} for e in expected
        ], path
        assert _instants(data) == _instants(english), path
        for event in icalendar.Calendar.from_ical(data).walk("VEVENT"):
            assert len(event.property_items(recursive=False)) > 0
            assert [name for name, _ in event.property_items(recursive=False)].count(
                "SUMMARY"
            ) == 1, path
        if lang == "en":
            assert data == english, path  # ?lang=en is the English feed, byte for byte
        feeds.append(data)
    assert_strictly_valid(feeds)  # libical and `ics`


@pytest.mark.parametrize("lang", OTHERS)
def test_no_english_fixed_word_is_left_in_another_language(
    client: TestClient, varied: dict[str, str], lang: str
) -> None:
    words = marked_words("ical", "feeds", "readmodel")
    assert len(words) > 15
    groups = client.get("/api/groups?limit=1000").json()["data"]
    data = [g[k] or "" for g in groups for k in ("name", "short_name", "code")]
    data += [leader[k] or "" for g in groups for leader in g["leaders"] for k in leader]
    meetings = all_meetings(client)
    data += [m[k] or "" for m in meetings for k in ("title", "description", "join_url")]
    for path in _paths(varied):
        text = ics_text(_get(client, _in(path, lang)))
        assert english_left(text, lang, words, data) == [], (path, text)
    # The check would see one: English itself is all English.
    english = ics_text(_get(client, "/calendar.ics"))
    assert "Thematic group" in english_left(english, "fr", words, data)


def _summaries(client: TestClient, path: str) -> dict[str, str]:
    events = icalendar.Calendar.from_ical(_get(client, path)).walk("VEVENT")
    return {str(e["UID"]).split("@")[0]: str(e["SUMMARY"]) for e in events}


def test_a_translation_written_through_the_api_shows_in_its_language_only(
    client: TestClient,
) -> None:
    before = {
        lang: _summaries(client, _in(f"/groups/{WG}/calendar.ics", lang)) for lang in LANGUAGES
    }
    body = {"translations": {"fr": {"title": "Villes autonomes : lancement"}}}
    _ok(client.patch(f"/api/meetings/{SEEDED}", json=body, headers=AUTH))
    for lang in LANGUAGES:
        after = _summaries(client, _in(f"/groups/{WG}/calendar.ics", lang))
        if lang == "fr":
            assert after[SEEDED].endswith("Villes autonomes : lancement"), after[SEEDED]
        else:
            assert after[SEEDED] == before[lang][SEEDED], lang
            assert "Villes autonomes" not in after[SEEDED]
        others = {uid: s for uid, s in after.items() if uid != SEEDED}
        assert others == {uid: s for uid, s in before[lang].items() if uid != SEEDED}

    names = {"translations": {"es": {"name": "Ciudades autónomas"}}}
    _ok(client.patch(f"/api/groups/{WG}", json=names, headers=AUTH))
    for lang in LANGUAGES:
        text = ics_text(_get(client, _in(f"/groups/{WG}/calendar.ics", lang)))
        assert ("Ciudades autónomas" in text) == (lang == "es"), lang


def test_each_language_has_its_own_etag_and_its_own_304(client: TestClient) -> None:
    path = f"/groups/{WG}/calendar.ics"
    tags = {}
    for lang in LANGUAGES:
        first = client.get(_in(path, lang), headers={"Accept-Encoding": "identity"})
        assert first.status_code == 200
        tags[lang] = first.headers["ETag"]
    assert len(set(tags.values())) == len(LANGUAGES), tags
    assert client.get(path, headers={"Accept-Encoding": "identity"}).headers["ETag"] == tags["en"]
    for lang, tag in tags.items():
        for asked, other in tags.items():
            again = client.get(
                _in(path, lang), headers={"If-None-Match": other, "Accept-Encoding": "identity"}
            )
            assert again.status_code == (304 if asked == lang else 200), (lang, asked)
            assert again.headers["ETag"] == tag
    # After a write every language renders again, each still in its own words.
    _ok(client.patch(f"/api/meetings/{SEEDED}", json={"title": "Renamed"}, headers=AUTH))
    for lang, tag in tags.items():
        fresh = client.get(_in(path, lang), headers={"If-None-Match": tag})
        assert fresh.status_code == 200, lang
        assert fresh.content == client.get(_in(path, lang)).content
    french = ics_text(_get(client, _in(path, "fr")))
    assert "Renamed" in french
    assert "Heure\u00a0: " in french and "Time: " not in french


UNSUPPORTED = ["de", "", "EN", "fr-CH", "fr_FR", "zh-Hans", "x" * 300, "en%00"]


@pytest.mark.parametrize("value", UNSUPPORTED)
@pytest.mark.parametrize(
    "path", ["/calendar.ics", f"/groups/{WG}/calendar.ics", f"/meetings/{SEEDED}.ics"]
)
def test_an_unsupported_language_is_a_422_naming_the_six(
    client: TestClient, path: str, value: str
) -> None:
    response = client.get(f"{path}?lang={value}")
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", "lang"]
    assert "use one of ar, en, es, fr, ru, zh" in error["msg"]
    assert len(error["msg"]) < 200  # what was sent is not echoed whole


def test_the_openapi_schema_documents_lang_on_every_feed(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for route in ("/calendar.ics", "/groups/{slug}/calendar.ics", "/meetings/{uid}.ics"):
        (lang,) = [p for p in paths[route]["get"]["parameters"] if p["name"] == "lang"]
        assert "ar, en, es, fr, ru, zh" in lang["description"], route
