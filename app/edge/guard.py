"""Guards around every request: the body-size cap, security headers, and storage faults as 503."""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("u4ssc.middleware")

REFERRER_POLICY = "strict-origin-when-cross-origin"
# What every answer carries (GuardMiddleware; the feed fast path adds the same).
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", REFERRER_POLICY.encode()),
)
# CORS: any origin may read feeds and the JSON API (CORSMiddleware; the fast path likewise).
CORS_EXPOSE = ("ETag", "Last-Modified", "Content-Disposition")
UNREADABLE_BODY = "the body is not JSON text: send UTF-8 encoded JSON"


def content_security_policy(public_base_url: str | None = None) -> str:
    """The CSP of every HTML answer: scripts only from this origin's files (the pages and the
    offline Swagger UI load theirs from /static), never inline, and no framing. Inline styles
    stay allowed: Swagger UI sets them, and a style cannot run code."""
    # The feed builder's form submits to the public URL, which may be another origin.
    form_action = " ".join(["'self'", *([public_base_url] if public_base_url else [])])
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
        f"base-uri 'none'; form-action {form_action}; frame-ancestors 'none'"
    )


class Refusal(BaseModel):
    """The shape of a refusal the guards give: what went wrong, in words."""

    detail: str


# What any route may answer because of the guards, declared once for the OpenAPI document.
GUARD_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"model": Refusal, "description": "The request body is larger than MAX_BODY_BYTES"},
    400: {"model": Refusal, "description": "The Host header is not in ALLOWED_HOSTS"},
    408: {"model": Refusal, "description": "The body did not arrive within the read timeout"},
    503: {
        "model": Refusal,
        "description": "The database refuses for now (read-only, disk full, unreachable), or "
        "the service is too busy; see Retry-After",
    },
}


class BodyTooLarge(Exception):
    pass


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value)
    return None


async def send_refusal(
    send: Send, status: int, detail: str, extra: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    """A JSON refusal `{"detail": ...}` straight from a pure ASGI layer; the connection closes."""
    body = json.dumps({"detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *SECURITY_HEADERS,
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class GuardMiddleware:
    """Pure ASGI (so that streamed bodies are counted as they arrive): refuses bodies over
    `max_body_bytes` with 413 and bodies that take longer than `body_timeout` seconds to
    arrive with 408, and adds the security headers to every answer."""

    def __init__(
        self, app: ASGIApp, max_body_bytes: int, csp: str, body_timeout: float = 10.0
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.csp = csp.encode()
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = (
            f"the request body is larger than {self.max_body_bytes} bytes, the most this "
            "service accepts"
        )
        length = _header(scope, b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                await send_refusal(send, 400, "the Content-Length header is not a number")
                return
            if declared > self.max_body_bytes:
                await send_refusal(send, 413, too_large)
                return
        if (length is not None and length != b"0") or _header(scope, b"transfer-encoding"):
            try:
                with anyio.fail_after(self.body_timeout):
                    receive = await self._buffered(receive)
            except BodyTooLarge:
                await send_refusal(send, 413, too_large)
                return
            except TimeoutError:
                slow = f"the request body did not arrive within {self.body_timeout:g} s"
                await send_refusal(send, 408, slow)
                return
        await self.app(scope, receive, self._with_headers(send))

    async def _buffered(self, receive: Receive) -> Receive:
        """Read the whole body now, counting bytes whatever Content-Length said (a chunked body
        has none), then hand it to the app in one message."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away: let the app see the disconnect.
                pending: Message | None = message
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                pending = None
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                if pending is not None:
                    return pending
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        return replay

    def _with_headers(self, send: Send) -> Send:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in (b"x-content-type-options", b"referrer-policy")
                ]
                headers += SECURITY_HEADERS
                if dict(headers).get(b"content-type", b"").startswith(b"text/html"):
                    headers.append((b"content-security-policy", self.csp))
                message = {**message, "headers": headers}
            await send(message)

        return send_with_headers


def storage_detail(exc: DBAPIError) -> str | None:
    """What to tell a client when the store refuses a statement for a reason of its own."""
    text = str(exc.orig).lower()
    if "readonly database" in text or "read-only" in text or "read only" in text:
        return (
            "the database is read-only at the moment, so writes are refused; reads still work. "
            "Try again later."
        )
    if "disk is full" in text or "disk full" in text or "no space left" in text:
        return "the database's disk is full, so writes are refused; reads still work."
    if "database is locked" in text or "busy" in text:
        return "the database is busy; try again in a moment."
    if isinstance(exc, OperationalError):
        return "the database cannot be reached at the moment; try again later."
    return None
