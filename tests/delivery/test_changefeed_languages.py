"""The Atom change feeds in the six languages (`?lang=`): titles and texts in the language's
words, dates by Babel, translated names and titles, no English fixed word left; the same
entries as English; each language its own ETag and 304; anything else a 422 naming the six."""

from __future__ import annotations

import feedparser
import pytest
from fastapi.testclient import TestClient

from app.i18n.catalogs import translator
from app.i18n.dates import weekday_date
from app.i18n.languages import LANGUAGES
from tests.conftest import AUTH, BASE_URL
from tests.delivery.test_changefeed import GROUP, make_changes, parsed
from tests.utils.words import english_left, marked_words

OTHERS = [lang for lang in LANGUAGES if lang != "en"]
FRENCH_NAME = "Villes autonomes"


def _translated(client: TestClient) -> None:
    """The working group's name and a meeting's title in French, before the changes."""
    names = {"translations": {"fr": {"name": FRENCH_NAME}}}
    assert client.patch(f"/api/groups/{GROUP}", json=names, headers=AUTH).is_success


def test_the_french_change_feed_speaks_french(client: TestClient) -> None:
    _translated(client)
    uid, day, later = make_changes(client)
    feed = parsed(client, "/changes.atom?lang=fr")
    when, moved_to = weekday_date(day, "fr"), weekday_date(later, "fr")  # "jeudi 4 mars 2027"
    assert feed.feed.language == "fr"
    assert feed.feed.title == "Calendrier des réunions de l'U4SSC\u00a0: modifications"
    assert feed.feed.links[0].href == f"{BASE_URL}/changes.atom?lang=fr"
    titles = [entry.title for entry in feed.entries[:5]]
    # The statuses in the words the pages use too (one catalog): "Achevé", "À lancer", "En cours".
    _ = translator("fr")
    assert titles[0].startswith("Statut\u00a0: ") and _("Completed") in titles[0], titles[0]
    assert _("Completed") != "Completed"
    started = f"{_('To be kicked off')} → {_('Ongoing')}"
    assert titles[1] == f"Statut\u00a0: {FRENCH_NAME}\u00a0: {started}"
    assert titles[2].startswith(f"Annulée\u00a0: AI in cities WG2 {FRENCH_NAME}\u00a0: Kick-off, ")
    assert titles[3].startswith(f"Reprogrammée\u00a0: AI in cities WG2 {FRENCH_NAME}, ")
    assert titles[4].startswith(f"Ajoutée\u00a0: AI in cities WG2 {FRENCH_NAME}, ")
    assert f"{when}, 16:00-17:00, heure de Genève → {moved_to}, 15:00-16:30" in titles[3]
    assert titles[4].endswith(f"{when}, 16:00-17:00, heure de Genève")
    moved = feed.entries[3].summary
    assert moved.startswith("Déplacée du ") and moved.count(" UTC)") == 2, moved
    assert feed.entries[1].summary == (
        f"Le statut de {FRENCH_NAME} est désormais\u00a0: en cours (Kicked off)."
    )
    # The same entries as English, in the same order, with the same links and times.
    assert feed.entries[2].link == f"{BASE_URL}/groups/{GROUP}#meeting-{uid}"
    english = parsed(client, "/changes.atom")
    assert [(e.id, e.link, e.updated) for e in feed.entries] == [
        (e.id, e.link, e.updated) for e in english.entries
    ]


@pytest.mark.parametrize("lang", OTHERS)
def test_no_english_fixed_word_is_left_in_a_change_feed(client: TestClient, lang: str) -> None:
    make_changes(client)
    words = marked_words("delivery/changefeed.py", "delivery/when.py")
    assert len(words) > 15
    groups = client.get("/api/groups?limit=1000").json()["data"]
    data = [g[k] or "" for g in groups for k in ("name", "short_name", "code", "status_note")]
    data += ["Kick-off", "Kicked off"]
    for path in ("/changes.atom", f"/groups/{GROUP}/changes.atom"):
        response = client.get(f"{path}?lang={lang}")
        assert response.status_code == 200
        feed = feedparser.parse(response.content)
        assert not feed.bozo and feed.feed.language == lang
        text = "\n".join(
            [feed.feed.title, feed.feed.subtitle, feed.feed.author]
            + [f"{e.title}\n{e.summary}" for e in feed.entries]
        )
        assert english_left(text, lang, words, data) == [], (path, text[:3000])
    english = client.get("/changes.atom").text
    assert "Rescheduled" in english_left(english, lang, words, data)


def test_each_language_has_its_own_etag_and_its_own_304(client: TestClient) -> None:
    make_changes(client)
    tags = {lang: client.get(f"/changes.atom?lang={lang}").headers["ETag"] for lang in LANGUAGES}
    assert len(set(tags.values())) == len(LANGUAGES)
    assert client.get("/changes.atom").headers["ETag"] == tags["en"]
    for lang, tag in tags.items():
        for other in tags.values():
            again = client.get(f"/changes.atom?lang={lang}", headers={"If-None-Match": other})
            assert again.status_code == (304 if other == tag else 200), (lang, other)


@pytest.mark.parametrize("value", ["de", "", "FR", "fr-CH", "x" * 300])
@pytest.mark.parametrize("path", ["/changes.atom", f"/groups/{GROUP}/changes.atom"])
def test_an_unsupported_language_is_a_422_naming_the_six(
    client: TestClient, path: str, value: str
) -> None:
    response = client.get(f"{path}?lang={value}")
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", "lang"]
    assert "use one of ar, en, es, fr, ru, zh" in error["msg"]
