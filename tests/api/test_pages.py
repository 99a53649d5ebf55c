"""The HTML pages over plain HTTP: every group listed, cancellations shown, exact links, 404."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import quote

from fastapi.testclient import TestClient

from tests.conftest import AUTH, BASE_URL


class _Links(HTMLParser):
    """Every element's attributes, and the text inside <s> and class="badge" elements."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.inline_scripts = 0
        self.style_attributes = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        if tag == "script" and not attributes.get("src"):
            self.inline_scripts += 1
        if "style" in attributes:
            self.style_attributes += 1

    def hrefs(self, kind: str, feed: str) -> list[str]:
        """The href of links with data-kind=kind inside the subscribe box data-feed=feed."""
        found, inside = [], False
        for tag, attrs in self.elements:
            if tag == "div" and "data-feed" in attrs:
                inside = attrs["data-feed"] == feed
            elif inside and tag == "a" and attrs.get("data-kind") == kind:
                found.append(attrs["href"] or "")
        return found


def _parse(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


def test_index_lists_every_group_by_name(client: TestClient) -> None:
    groups = client.get("/api/groups", params={"limit": 1000}).json()["data"]
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert len(groups) > 20
    for group in groups:
        name = group["name"].replace("&", "&amp;").replace('"', "&#34;").replace("'", "&#39;")
        assert name in page.text, group["name"]
        assert f'href="/groups/{group["slug"]}"' in page.text


def test_index_subscribe_links_are_exact(client: TestClient) -> None:
    links = _parse(client.get("/").text)
    feed = f"{BASE_URL}/calendar.ics"
    webcal = "webcal://calendar.example.org/calendar.ics"
    assert links.hrefs("https", "all") == [feed]
    assert links.hrefs("webcal", "all") == [webcal]
    assert links.hrefs("google", "all") == [
        "https://calendar.google.com/calendar/r?cid=webcal%3A%2F%2Fcalendar.example.org%2Fcalendar.ics"
    ]
    assert links.hrefs("outlook", "all") == [
        "https://outlook.live.com/calendar/0/addfromweb?url="
        "https%3A%2F%2Fcalendar.example.org%2Fcalendar.ics&name=U4SSC%20meetings"
    ]
    group = client.get("/api/groups/ai-in-cities-wg2").json()
    assert links.hrefs("https", "ai-in-cities-wg2") == [group["feed_url"]]
    assert links.hrefs("webcal", "ai-in-cities-wg2") == [group["webcal_url"]]
    assert links.hrefs("google", "ai-in-cities-wg2") == [
        "https://calendar.google.com/calendar/r?cid=" + quote(group["webcal_url"], safe="")
    ]
    assert links.hrefs("outlook", "ai-in-cities-wg2") == [
        "https://outlook.live.com/calendar/0/addfromweb?url="
        "https%3A%2F%2Fcalendar.example.org%2Fgroups%2Fai-in-cities-wg2%2Fcalendar.ics"
        "&name=U4SSC%3A%20Autonomous%20Cities%20%28WG2%29"
    ]


def test_pages_have_no_inline_script_or_style(client: TestClient) -> None:
    for url in ("/", "/groups/ai-in-cities", "/groups/digital-wellbeing", "/docs"):
        parsed = _parse(client.get(url).text)
        assert parsed.inline_scripts == 0, url
        assert parsed.style_attributes == 0, url


def test_cancelled_meeting_is_struck_through_and_labelled(client: TestClient) -> None:
    uid = "ai-in-cities-wg2-2023-07-27"
    assert client.delete(f"/api/meetings/{uid}", headers=AUTH).status_code == 200
    page = client.get("/groups/ai-in-cities-wg2").text
    item = re.search(rf'<li class="meeting cancelled" id="meeting-{uid}">(.*?)</li>', page, re.S)
    assert item is not None
    assert "Cancelled" in item.group(1)
    assert re.search(r"<s>.*27 July 2023.*</s>", item.group(1), re.S)
    other = re.search(r'<li class="meeting" id="meeting-ai-in-cities-wg2-2023-09-28">', page)
    assert other is not None
    assert '<li class="meeting cancelled">' in client.get("/").text


def test_group_page_shows_the_plan_and_geneva_and_utc_times(client: TestClient) -> None:
    page = client.get("/groups/ai-in-cities-wg2")
    assert page.status_code == 200
    group = client.get("/api/groups/ai-in-cities-wg2").json()
    assert group["name"] in page.text
    for leader in group["leaders"]:
        assert leader["name"] in page.text
    assert "Thursday 27 July 2023, 16:00\N{EN DASH}17:00 Geneva time (CEST)" in page.text
    assert "14:00\N{EN DASH}15:00 UTC" in page.text
    assert 'datetime="2023-07-27T14:00:00Z"' in page.text
    assert 'href="/meetings/ai-in-cities-wg2-2023-07-27.ics"' in page.text
    # The feeds link each event to its anchor on this page.
    assert 'id="meeting-ai-in-cities-wg2-2023-07-27"' in page.text


def test_thematic_group_page_holds_its_working_groups_meetings(client: TestClient) -> None:
    page = client.get("/groups/ai-in-cities").text
    meetings = client.get("/api/meetings", params={"group": "ai-in-cities"}).json()["data"]
    assert meetings
    for meeting in meetings:
        assert f'id="meeting-{meeting["uid"]}"' in page


def test_text_from_the_api_is_escaped(client: TestClient) -> None:
    body = {"status_note": "<script>alert(1)</script>"}
    assert client.patch("/api/groups/digital-wellbeing", json=body, headers=AUTH).status_code == 200
    for url in ("/", "/groups/digital-wellbeing"):
        page = client.get(url).text
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_unknown_group_page_is_404(client: TestClient) -> None:
    page = client.get("/groups/unknown")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "No such group" in page.text
    # The JSON API keeps its own error shape.
    assert client.get("/api/groups/unknown").json() == {"detail": "no group 'unknown'"}


def test_static_assets_and_docs_are_served_by_the_app(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower()
    for url in re.findall(r'(?:src|href)="(/static/[^"]+)"', docs.text):
        assert client.get(url).status_code == 200, url
    for url in ("/static/app.css", "/static/app.js"):
        assert client.get(url).status_code == 200
