"""Guards around every request: the body-size cap, security headers, and storage faults as 503."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InternalError, OperationalError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("u4ssc.middleware")

# No inline script anywhere: the pages load their scripts from /static. Inline styles stay
# allowed because style attributes cannot run code and the pages and Swagger UI use them.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
REFERRER_POLICY = "strict-origin-when-cross-origin"
# Swagger UI is started by a short inline script that the server writes from constants (no
# request data): those pages get that exact script allowed by its hash, nothing else inline.
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
_INLINE_SCRIPT = re.compile(
    rb"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL
)


class BodyTooLarge(Exception):
    pass


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value)
    return None


async def _send_json(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", REFERRER_POLICY.encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def script_hashes(html: bytes) -> list[str]:
    """CSP source expressions ('sha256-...') for each inline <script> of `html`."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    ]


def docs_csp(html: bytes) -> str:
    allowed = " ".join(["'self'", *script_hashes(html)])
    return PAGE_CSP.replace("script-src 'self'", f"script-src {allowed}")


class GuardMiddleware:
    """Pure ASGI (so that streamed bodies are counted as they arrive): refuses bodies over
    `max_body_bytes` with 413, and adds the security headers to every answer."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

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
                await _send_json(send, 400, "the Content-Length header is not a number")
                return
            if declared > self.max_body_bytes:
                await _send_json(send, 413, too_large)
                return
        if (length is not None and length != b"0") or _header(scope, b"transfer-encoding"):
            try:
                receive = await self._buffered(receive)
            except BodyTooLarge:
                await _send_json(send, 413, too_large)
                return
        await self.app(scope, receive, self._with_headers(scope, send))

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

    def _with_headers(self, scope: Scope, send: Send) -> Send:
        is_docs = scope.get("path") in DOCS_PATHS
        held: Message | None = None
        held_body: list[bytes] = []

        async def send_with_headers(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in (b"x-content-type-options", b"referrer-policy")
                ]
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", REFERRER_POLICY.encode()),
                ]
                content_type = dict(headers).get(b"content-type", b"")
                message = {**message, "headers": headers}
                if content_type.startswith(b"text/html"):
                    if is_docs:
                        # Hold the start until the body is known: its scripts make the CSP.
                        held = message
                        return
                    message["headers"] = [*headers, (b"content-security-policy", PAGE_CSP.encode())]
                await send(message)
                return
            if held is not None and message["type"] == "http.response.body":
                held_body.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = b"".join(held_body)
                csp = docs_csp(body).encode()
                await send(
                    {**held, "headers": [*held["headers"], (b"content-security-policy", csp)]}
                )
                held = None
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        return send_with_headers


def _storage_detail(exc: DBAPIError) -> str | None:
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


def install(app: FastAPI, max_body_bytes: int) -> None:
    """Wire the guards into `app`: the middleware and the one place storage faults become 503."""

    async def storage_fault(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DBAPIError)
        detail = _storage_detail(exc)
        if detail is None:
            raise exc
        log.warning("storage fault on %s %s: %s", request.method, request.url.path, exc.orig)
        return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": "30"})

    app.add_exception_handler(OperationalError, storage_fault)
    # PostgreSQL reports a read-only transaction (a hot standby) as an InternalError.
    app.add_exception_handler(InternalError, storage_fault)
    app.add_middleware(GuardMiddleware, max_body_bytes=max_body_bytes)
