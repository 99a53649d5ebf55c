"""The console's subscribers page: counts per group, never an address; removal on request."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.core.config import Settings
from app.models import Subscriber
from tests.api.test_admin import (  # noqa: F401 (account: a fixture)
    ORIGIN,
    _browser,
    _signed_in,
    account,
)
from tests.delivery.test_announce import GROUP
from tests.delivery.test_invitations import invite_settings
from tests.utils.invites import add_confirmed
from tests.utils.mail import Inbox, smtp_server


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def settings(database_url: str, inbox: Inbox) -> Settings:
    return invite_settings(database_url, inbox.port)  # type: ignore[attr-defined]


@pytest.mark.usefixtures("account")
def test_counts_per_group_and_removal_without_showing_an_address(
    app: FastAPI, engine: Engine
) -> None:
    addresses = add_confirmed(engine, 3, GROUP)
    with _browser(app) as browser:
        token = _signed_in(browser)
        page = browser.get("/admin/subscribers")
        assert page.status_code == 200
        assert "3 confirmed subscribers" in page.text
        assert "<td>AI in cities WG2 Autonomous Cities</td><td>3</td>" in page.text
        assert not any(address in page.text for address in addresses)
        form = {"email": addresses[0], "csrf_token": token}
        removed = browser.post("/admin/subscribers/remove", data=form, headers=ORIGIN)
        assert removed.status_code == 200 and "2 confirmed subscribers" in removed.text
        stale = browser.post(
            "/admin/subscribers/remove", data={"email": addresses[1]}, headers=ORIGIN
        )
        assert stale.status_code == 403
    with Session(engine) as session:
        left = session.exec(select(Subscriber.email)).all()
    assert sorted(left) == addresses[1:]
