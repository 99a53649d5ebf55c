"""Pages for people: every group, its meetings, and subscribe links."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from app import crud
from app.api.deps import BaseUrlDep
from app.db import SessionDep
from app.public import group_public

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def read_index(session: SessionDep, base: BaseUrlDep) -> str:
    items = "".join(
        f'<li><a href="{g.feed_url}">{g.name}</a></li>'
        for g in (group_public(info, base) for info in crud.group_index(session).values())
    )
    return f"<!doctype html><title>U4SSC meetings</title><h1>U4SSC meetings</h1><ul>{items}</ul>"
