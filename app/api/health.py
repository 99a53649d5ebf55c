"""Liveness and readiness."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.db import SessionDep

router = APIRouter(tags=["health"])


@router.get("/health", summary="The process is up")
def read_health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready",
    summary="The database is reachable",
    responses={503: {"description": "The database cannot be reached"}},
)
def read_ready(session: SessionDep) -> JSONResponse:
    try:
        session.execute(text("SELECT value FROM revision WHERE id = 1")).one()
    except SQLAlchemyError:
        return JSONResponse({"detail": "the database cannot be reached"}, status_code=503)
    return JSONResponse({"status": "ready"})
