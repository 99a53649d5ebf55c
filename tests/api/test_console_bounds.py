"""Console forms are parsed with a bound on size and depth before any field is used (issue 21):
a tampered field gets a 4xx, never a 500."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from tests.api.test_admin import (  # noqa: F401 (account: a fixture)
    ORIGIN,
    SLUG,
    UID,
    _browser,
    _future,
    _signed_in,
    account,
)


@pytest.mark.usefixtures("account")
def test_a_deeply_nested_opened_field_is_no_500(app: FastAPI) -> None:
    browser = _browser(app)
    token = _signed_in(browser)
    form = {
        "csrf_token": token,
        "group": SLUG,
        "date": _future(30),
        "start_time": "15:00",
        "end_time": "16:00",
        "timezone": "Europe/Zurich",
        "status": "confirmed",
        "version": "999",  # stale: the conflict page reads `opened`
        "opened": "[" * 5_000,  # deeper than the JSON parser recurses; 15 KB encoded
    }
    answer = browser.post(f"/admin/meetings/{UID}", data=form, headers=ORIGIN)
    assert answer.status_code < 500, answer.text[:300]


@pytest.mark.usefixtures("account")
def test_a_field_longer_than_any_form_needs_is_422(app: FastAPI) -> None:
    browser = _browser(app)
    token = _signed_in(browser)
    form = {"csrf_token": token, "title": "t" * 30_000, "version": "1"}
    answer = browser.post(f"/admin/meetings/{UID}", data=form, headers=ORIGIN)
    assert answer.status_code == 422
    assert "longer than" in answer.text
