"""The ASGI application: routers, error answers, middleware and start-up."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from importlib import metadata

from anyio import to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Scope

from app.api import (
    admin,
    admin_subscribers,
    changefeed,
    changes,
    errors,
    feeds,
    groups,
    health,
    meetings,
    pages,
    signin,
    subscriptions,
)
from app.auth import throttle
from app.auth.limits import AuthLimiter, RequestLimiter
from app.core.config import Settings, get_settings
from app.core.db import make_engine
from app.core.revision_watch import WatchedRevision
from app.delivery import outbox
from app.delivery.sender import Sender
from app.edge import guard, observability
from app.edge.admission import Admission
from app.edge.fastpath import DailyCutoff, FeedFastPath
from app.edge.front import FeedHits, PollFront
from app.edge.head import HeadAsGet
from app.edge.hosts import HostGuard
from app.edge.json_cache import JsonCache, JsonStore
from app.feeds.answer import Headers
from app.feeds.event_store import EventStore
from app.feeds.service import FeedService
from app.store.migrate import prepare

log = logging.getLogger("u4ssc")

DESCRIPTION = """
The U4SSC Action Plan as a live calendar. Read groups and e-meetings as JSON, subscribe to
`.ics` feeds, and (with a bearer token) keep them current. Times are Geneva wall clock
(`Europe/Zurich`); JSON gives each with its offset and in UTC.
"""


class CalendarApp(FastAPI):
    """FastAPI with the poll front (app.edge.front) around its whole middleware stack, Starlette's
    error layer included: `front` wraps the stack when it is built (None: no front)."""

    front: Callable[[ASGIApp], PollFront] | None = None
    # The built front's answer_now, which the HTTP protocol asks first (app.edge.protocol).
    answer_now: Callable[[Scope], tuple[int, Headers, bytes] | None] | None = None

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        if self.front is not None:
            front = self.front(stack)
            self.answer_now = front.answer_now
            stack = front
        # Outermost of all: HEAD answered as GET without its body, for every route.
        return HeadAsGet(stack)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = make_engine(settings.database_url, settings.db_pool_size)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Worker threads for sync routes: at least one per admitted request (app.edge.admission).
        limiter = to_thread.current_default_thread_limiter()
        limiter.total_tokens = max(limiter.total_tokens, settings.db_pool_size)
        prepare(engine, settings)
        freeze_what_is_loaded()
        # The outbox's sender: mail and webhook calls leave from here, with retries.
        stop = asyncio.Event()
        task = asyncio.create_task(sender.run_forever(stop)) if settings.outbox_sender else None
        yield
        stop.set()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(task, timeout=10)
        app.state.feeds.store.close()
        app.state.feeds.revisions.close()
        engine.dispose()

    app = CalendarApp(
        title="U4SSC meeting calendar",
        version=metadata.version("u4ssc-calendar"),  # pyproject's, the one version
        description=DESCRIPTION,
        lifespan=lifespan,
        # Served by pages.read_docs from local files: the default UI loads them from a CDN.
        docs_url=None,
        redoc_url=None,
        # Our metrics are Prometheus (/metrics); FastAPI's OpenTelemetry hook would otherwise
        # look its providers up in the environment on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.feeds = FeedService(
        revisions=WatchedRevision(engine), store=EventStore(engine, settings.keeps_rendered_texts)
    )
    app.state.auth_limiter = AuthLimiter()
    app.state.subscribe_limiter = RequestLimiter(settings.subscribe_per_client, window=3600)
    sender = Sender.from_settings(engine, settings)
    app.state.sender = sender
    app.state.sign_in_throttle = throttle.SignInThrottle(
        per_address=settings.signin_failures_per_address,
        per_account=settings.signin_failures_per_account,
        window=settings.signin_window_seconds,
    )
    app.state.password_checks = throttle.PasswordChecks(
        settings.signin_concurrent_checks, settings.signin_wait_seconds
    )
    errors.install(app)
    for module in (
        health,
        groups,
        meetings,
        subscriptions,
        changes,
        changefeed,
        feeds,
        pages,
        signin,
        admin,
        admin_subscribers,
    ):
        app.include_router(module.router, responses=guard.GUARD_RESPONSES)
    app.mount("/static", StaticFiles(packages=[("app", "static")]), name="static")
    metrics = observability.install_metrics(app, settings.log_format)
    metrics.registry.register(outbox.OutboxCollector(engine, sender.stats))
    json_answers = JsonStore()
    # The middleware stack, outermost first (Starlette's error layer outside it, the front and
    # HEAD outside that: CalendarApp.build_middleware_stack).
    app.user_middleware = [
        # A Host this service does not answer to is refused; an allowed one made canonical.
        Middleware(HostGuard, allowed=settings.hosts),
        # At most db_pool_size requests in at once, each using at most one pooled connection.
        Middleware(Admission, limit=settings.db_pool_size),
        # The JSON API's reads, kept per data revision with a strong ETag (304 on a match).
        Middleware(JsonCache, store=json_answers),
        # A poll of a cached feed answered with the headers and metrics the layers inside would
        # give it; after a write, a known feed re-rendered here (inside Admission: a connection).
        Middleware(FeedFastPath),
        # Counts and logs every answer, the guard's refusals included.
        Middleware(
            observability.ObservabilityMiddleware, metrics=metrics, routes=app.router.routes
        ),
        # Body size and deadline, security headers: before routing, so an oversized body is
        # refused before any route or store work.
        Middleware(
            guard.GuardMiddleware,
            max_body_bytes=settings.max_body_bytes,
            csp=guard.content_security_policy(settings.public_base_url),
            body_timeout=settings.read_timeout_seconds,
        ),
        Middleware(
            CORSMiddleware,
            allow_origins=["*"],
            allow_methods=["GET", "HEAD", "OPTIONS"],
            allow_headers=["If-None-Match", "If-Modified-Since"],
            expose_headers=list(guard.CORS_EXPOSE),
            max_age=86400,
        ),
    ]
    # Around the whole stack, Starlette's error layer included: the answers both caches hold
    # at the current revision, given without a connection, an admission slot or any layer.
    feed_hits = FeedHits(app.state.feeds, settings, DailyCutoff(settings.cancelled_retention_days))
    metrics.more_feed_hits.append(lambda: feed_hits.hits)
    app.front = partial(
        PollFront,
        feeds=feed_hits,
        json=json_answers,
        allowed=settings.hosts,
        metrics=metrics,
    )
    return app


@functools.cache
def freeze_what_is_loaded() -> None:
    """Once per process, when the first app has started: what is loaded by then (framework,
    models, routes, migrations) lives as long as the process. Frozen out of the collector's
    sight, a full collection no longer walks it; one used to land inside a re-render now and
    then and take it from 10 ms to over 100 ms."""
    gc.collect()
    gc.freeze()


app = create_app()
