"""Issue 24: nothing the secretariat does goes wrong without a word. Each test is named after
what it reproduces (the numbered points of the issue)."""

from __future__ import annotations

import datetime as dt
import html
import logging
import re

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.auth import accounts
from app.main import create_app
from app.models import Meeting
from tests.api.test_admin import NAME, PASSWORD, leader_rows, sign_in
from tests.conftest import AUTH, BASE_URL
from tests.delivery.test_announce import GROUP, future_thursday, mail_settings, outbox_rows
from tests.utils.mail import wait_for
from tests.utils.server import free_port

WRITES = {"post", "put", "patch", "delete"}


def signed_in(app: FastAPI, engine: Engine) -> TestClient:
    """A browser signed in to the console as a new secretary."""
    with Session(engine) as session:
        accounts.add_user(session, NAME, PASSWORD)
    browser = TestClient(app, base_url=BASE_URL, follow_redirects=False)
    assert sign_in(browser).status_code == 303
    return browser


# Writes anyone may make, on purpose: subscribing by email (issue 25) needs no token.
PUBLIC_WRITES = {("post", "/api/subscriptions")}


def test_5_swagger_can_authorize_every_write(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearer"]["description"],
    }
    writes = [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in WRITES and (method, path) not in PUBLIC_WRITES
    ]
    assert len(writes) >= 5
    unsecured = [(m, p) for m, p, op in writes if {"bearer": []} not in op.get("security", [])]
    assert not unsecured, unsecured
    # What Swagger's "Try it out" sends once authorised is what a write takes.
    uid = client.get("/api/meetings?limit=1").json()["data"][0]["uid"]
    answer = client.patch(f"/api/meetings/{uid}", json={"title": "From /docs"}, headers=AUTH)
    assert answer.status_code == 200, answer.text
    refused = client.patch(f"/api/meetings/{uid}", json={"title": "x"}, headers={})
    assert refused.status_code == 401
    assert "Authorization: Bearer" in refused.json()["detail"]


def test_11_the_join_link_is_where_google_and_outlook_look(client: TestClient) -> None:
    join = "https://meet.example.org/u4ssc?id=11"
    day = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    body = {"group": "ai-in-cities-wg2", "date": day, "start_time": "10:00", "end_time": "11:00"}
    with_link = client.post("/api/meetings", json={**body, "join_url": join}, headers=AUTH)
    without = client.post("/api/meetings", json=body, headers=AUTH)
    assert with_link.status_code == without.status_code == 201
    for made, location in ((with_link.json(), join), (without.json(), "Online")):
        feed = client.get(f"/meetings/{made['uid']}.ics")
        (event,) = Calendar.from_ical(feed.content).walk("VEVENT")
        assert str(event["LOCATION"]) == location
        assert ("CONFERENCE" in event) is (location == join)
        assert (join in str(event["DESCRIPTION"])) is (location == join)


PAGE = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def _is_page(answer: httpx2.Response, title: str) -> None:
    assert answer.headers["content-type"].startswith("text/html"), answer.text[:200]
    assert f'<h1 id="error-title">{title}</h1>' in answer.text
    assert '<header class="site-header">' in answer.text  # the site's layout


def test_6_a_browser_sees_a_page_not_raw_json(client: TestClient) -> None:
    _is_page(client.get("/nope", headers=PAGE), "Page not found")
    assert client.get("/nope", headers=PAGE).status_code == 404
    _is_page(client.post("/", headers=PAGE), "Not available this way")
    assert client.post("/", headers=PAGE).status_code == 405
    # Programs keep JSON: the API, the feeds, and anyone not asking for HTML.
    for path, headers in (("/api/nope", PAGE), ("/nope", {}), ("/api/meetings/nope", PAGE)):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 404 and "detail" in answer.json(), path
    feed = client.get("/calendar.ics?group=no-such-group", headers=PAGE)
    assert feed.status_code == 422 and "detail" in feed.json()


def test_6_a_signed_in_secretary_sees_a_page_for_an_unknown_meeting(
    app: FastAPI, engine: Engine
) -> None:
    browser = signed_in(app, engine)
    answer = browser.get("/admin/meetings/nope", headers=PAGE)
    assert answer.status_code == 404
    _is_page(answer, "Page not found")
    assert "no meeting" in answer.text and 'href="/admin"' in answer.text


def test_10_an_smtp_outage_shows_in_the_log_and_on_the_dashboard(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()  # nothing listens: the SMTP server is down
    app = create_app(mail_settings(database_url, port))
    caplog.set_level(logging.WARNING, logger="u4ssc.outbox")
    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as browser:
        engine: Engine = app.state.engine
        with Session(engine) as session:
            accounts.add_user(session, NAME, PASSWORD)
        assert sign_in(browser).status_code == 303
        assert "Everything has been delivered." in browser.get("/admin").text
        body = {"group": GROUP, "date": future_thursday().isoformat()}
        assert browser.post("/api/meetings?announce=true", json=body, headers=AUTH).is_success
        wait_for(
            lambda: any(row.attempts >= 1 and row.last_error for row in outbox_rows(engine)),
            "a failed attempt while the SMTP server is down",
        )
        dashboard = browser.get("/admin").text
    assert "Delivery is failing." in dashboard
    assert "1 waiting to be tried again" in dashboard
    assert "The last error (mail)" in dashboard
    failed = [r for r in caplog.records if "next try at" in r.getMessage()]
    assert failed and failed[0].levelno == logging.WARNING


def test_4_a_leader_row_cannot_be_saved_half_read(app: FastAPI, engine: Engine) -> None:
    """ "Okan Geray (Digital Dubai" (no closing bracket) showed on the public page as written."""
    browser = signed_in(app, engine)
    slug = "ai-in-cities-wg2"
    page = browser.get(f"/admin/groups/{slug}").text
    form = {**leader_rows(page), **_hidden(page)}
    # A person and an organisation are two fields: brackets in a name stay as written.
    form.update(leader_name_0="Okan Geray (Digital Dubai", leader_org_0="", leader_name_1="")
    form.update(leader_name_1="Jane Doe", leader_org_1="ITU")
    saved = browser.post(f"/admin/groups/{slug}", data=form, headers={"Origin": BASE_URL})
    assert saved.status_code == 303, saved.text
    leaders = browser.get(f"/api/groups/{slug}").json()["leaders"]
    assert leaders[:2] == [
        {"name": "Okan Geray (Digital Dubai", "affiliation": None},
        {"name": "Jane Doe", "affiliation": "ITU"},
    ]
    # An organisation without a name is refused, with the row shown; nothing is saved.
    page = browser.get(f"/admin/groups/{slug}").text
    form = {**leader_rows(page), **_hidden(page), "leader_name_1": "", "leader_org_1": "ITU"}
    refused = browser.post(f"/admin/groups/{slug}", data=form, headers={"Origin": BASE_URL})
    assert refused.status_code == 422
    assert "row 2 names the organisation “ITU” but no one" in refused.text
    assert browser.get(f"/api/groups/{slug}").json()["leaders"] == leaders


def _hidden(page: str) -> dict[str, str]:
    """The form's hidden fields and every other field it shows, as a browser would send them."""
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    for name in ("status", "status_note", "timeline", "expected_publication"):
        found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page)
        if found:
            fields[name] = html.unescape(found.group(1))
    fields["status"] = "ongoing"
    return {name: html.unescape(value) for name, value in fields.items()}


def _count_meetings(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.exec(select(Meeting.id)).all())


def test_1_back_and_save_again_never_makes_a_second_meeting(app: FastAPI, engine: Engine) -> None:
    browser = signed_in(app, engine)
    page = browser.get("/admin/meetings/new?group=ai-in-cities-wg2").text
    form = _hidden(page)
    assert form.get("form_key"), "the form carries no one-time key"
    day = (dt.date.today() + dt.timedelta(days=45)).isoformat()
    form.update(group="ai-in-cities-wg2", date=day, start_time="10:00", end_time="11:00")
    form.update(timezone="Europe/Zurich", status="confirmed", title="Once")
    before = _count_meetings(engine)
    first = browser.post("/admin/meetings/new", data=form, headers={"Origin": BASE_URL})
    again = browser.post("/admin/meetings/new", data=form, headers={"Origin": BASE_URL})
    assert first.status_code == again.status_code == 303
    assert again.headers["location"] == first.headers["location"]  # what the first saved
    assert _count_meetings(engine) == before + 1
    # Back in a browser that fetches the page again: a new key, the same meeting. It is asked
    # about, not saved; a second one on purpose takes a tick.
    fresh = _hidden(browser.get("/admin/meetings/new").text)
    assert fresh["form_key"] != form["form_key"]
    back = {**form, "form_key": fresh["form_key"]}
    asked = browser.post("/admin/meetings/new", data=back, headers={"Origin": BASE_URL})
    assert asked.status_code == 409
    assert "you saved this meeting a moment ago" in asked.text
    assert first.headers["location"].split("?")[0].rsplit("/", 1)[1] in asked.text
    assert _count_meetings(engine) == before + 1
    sure = {**back, "again": "yes"}
    second = browser.post("/admin/meetings/new", data=sure, headers={"Origin": BASE_URL})
    assert second.status_code == 303 and second.headers["location"] != first.headers["location"]
    assert _count_meetings(engine) == before + 2


def test_1_an_api_post_with_an_idempotency_key_is_made_once(
    client: TestClient, engine: Engine
) -> None:
    day = (dt.date.today() + dt.timedelta(days=46)).isoformat()
    body = {"group": "ai-in-cities-wg2", "date": day, "start_time": "10:00", "end_time": "11:00"}
    key = {**AUTH, "Idempotency-Key": "9b7c1d6e-2f4a-4c1b-8e53-0a7d2c9f1e11"}
    before = _count_meetings(engine)
    first = client.post("/api/meetings", json=body, headers=key)
    again = client.post("/api/meetings", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json()["uid"] == first.json()["uid"]
    assert again.headers["location"] == first.headers["location"]
    assert _count_meetings(engine) == before + 1
    other = client.post("/api/meetings", json={**body, "title": "Another"}, headers=key)
    assert other.status_code == 422
    assert "Idempotency-Key" in str(other.json()["detail"])
    assert _count_meetings(engine) == before + 1
    group = {"slug": "idem-group", "name": "Idempotent", "kind": "thematic"}
    assert client.post("/api/groups", json=group, headers=key).status_code == 422
    own = {**AUTH, "Idempotency-Key": "group-key-1"}
    made = [client.post("/api/groups", json=group, headers=own) for _ in range(2)]
    assert [m.status_code for m in made] == [201, 201]  # not 409: the repeat is the first
    assert (
        client.post(
            "/api/meetings", json=body, headers={**AUTH, "Idempotency-Key": "k" * 201}
        ).status_code
        == 422
    )


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"date": "2027-02-30"}, "date", "2027-02-30 is not a date: February 2027 has 28 days"),
        ({"start_time": "4pm"}, "start_time", "“4pm” is not a time: write it as HH:MM"),
        ({"title": "x" * 201}, "title", "is too long: at most 200 characters (this has 201)"),
        ({"join_url": "https://meet.example.org/a b"}, "join_url", "has a space in it"),
        ({"end_time": "09:00"}, "end_time", "must be after the start time, on the same day"),
    ],
)
def test_3_messages_are_in_plain_words_not_the_validators(
    client: TestClient, change: dict[str, str], field: str, words: str
) -> None:
    body = {"group": "ai-in-cities-wg2", "date": "2027-03-04", "start_time": "10:00"}
    body.update({"end_time": "11:00", **change})
    answer = client.post("/api/meetings", json=body, headers=AUTH)
    assert answer.status_code == 422
    (error,) = answer.json()["detail"]
    assert error["loc"][-1] == field  # the API keeps the field's name
    assert words in error["msg"], error
    assert "Input should be" not in error["msg"] and "String should" not in error["msg"]


def test_3_the_console_says_counts_statuses_and_actions_as_people_do(
    app: FastAPI, engine: Engine
) -> None:
    browser = signed_in(app, engine)
    dashboard = browser.get("/admin").text
    assert "created from the action plan" in dashboard
    assert "create by seed" not in dashboard and "time(s)" not in dashboard
    audit = browser.get("/admin/changes").text
    assert "the action plan" in audit and ">seed<" not in audit
