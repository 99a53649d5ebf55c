"""Liveness, readiness and the Prometheus metrics of this process."""

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.api.deps import SessionDep
from app.core.db import REVISION_SQL
from app.edge.observability import Metrics

router = APIRouter(tags=["health"])
log = logging.getLogger("u4ssc.health")

NO_STORE = {"Cache-Control": "no-store"}


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
        session.execute(text(REVISION_SQL)).one()
    except SQLAlchemyError as exc:
        # The reason goes to the log only: it may name hosts and paths.
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        log.warning("not ready: %s: %s", type(exc).__name__, reason)
        return JSONResponse(
            {"detail": "not ready: the database cannot be reached or is not migrated"},
            status_code=503,
            headers=NO_STORE,
        )
    return JSONResponse({"status": "ready"}, headers=NO_STORE)


@router.get(
    "/metrics",
    summary="Prometheus metrics of this process",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Text exposition"}},
)
def read_metrics(request: Request) -> Response:
    metrics: Metrics = request.app.state.metrics
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
