"""Admission: no more requests inside the application at once than the database pool has
connections, so that a request never waits for a connection while holding one (or a thread).

Each admitted request uses at most one pooled connection at a time and gives it back before
its answer is sent (sessions close when the route returns), so the pool cannot run dry and
the worker threads cannot all block on it. A request waits here, without a thread or a
connection, for its turn; one that waits longer than `wait_seconds` gets 503 with
Retry-After. `/health` and static files use no connection and are never held back."""

from __future__ import annotations

import asyncio

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.edge.guard import send_refusal

BUSY = "the service is busy at the moment; try again in a few seconds"


class Admission:
    """Pure ASGI: at most `limit` requests past this point; the rest queue, in order."""

    def __init__(self, app: ASGIApp, limit: int, wait_seconds: float = 10.0) -> None:
        self.app = app
        self.limit = limit
        self.wait_seconds = wait_seconds
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.inside = 0  # requests admitted and not yet answered

    def _semaphore(self) -> asyncio.Semaphore:
        # One per event loop: a test client runs each app on a loop of its own.
        loop = asyncio.get_running_loop()
        if self._slots is None or self._loop is not loop:
            self._slots, self._loop = asyncio.Semaphore(self.limit), loop
        return self._slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path == "/health" or path.startswith("/static/"):
            await self.app(scope, receive, send)
            return
        slots = self._semaphore()
        if not slots.locked():
            # A free slot is taken at once: no timer (a cancel scope costs a poll ~20%).
            await slots.acquire()
        else:
            try:
                with anyio.fail_after(self.wait_seconds):
                    await slots.acquire()
            except TimeoutError:
                await send_refusal(send, 503, BUSY, ((b"retry-after", b"5"),))
                return
        held = True
        self.inside += 1

        def release() -> None:
            nonlocal held
            if held:
                held = False
                self.inside -= 1
                slots.release()

        async def send_and_release(message: Message) -> None:
            # The route has returned and its session is closed: the next request may go in
            # while this answer travels to a client that may be slow to read it.
            if message["type"] == "http.response.start":
                release()
            await send(message)

        try:
            await self.app(scope, receive, send_and_release)
        finally:
            release()
