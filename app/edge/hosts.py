"""The Host guard: a request naming a host outside ALLOWED_HOSTS is refused before any work.

Links in feeds, JSON and pages are built from the Host when PUBLIC_BASE_URL is unset, and each
distinct base URL is a feed of its own in the cache: without this guard any client could make
the service render and keep one feed per Host header it invents."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from app.edge.guard import send_refusal


def host_name(header: bytes) -> str:
    """The host of a Host header, lower case, without port or trailing dot; IPv6 in brackets."""
    text = header.decode("latin-1").strip().lower()
    if text.startswith("["):
        end = text.find("]")
        return text[: end + 1] if end > 0 else text
    name = text.rsplit(":", 1)[0] if ":" in text else text
    return name.rstrip(".")


def allows(allowed: frozenset[str], header: bytes) -> bool:
    """Whether a Host header names a host in `allowed` (which may hold '*': any)."""
    return "*" in allowed or host_name(header) in allowed


# Answers that do not depend on the Host: probes (which often use the pod's or container's IP
# address as Host) and metrics keep working whatever name they use.
HOST_FREE_PATHS = frozenset({"/health", "/ready", "/metrics"})


class HostGuard:
    """Pure ASGI, outermost: 400 for a Host outside `allowed` (which may hold '*': any)."""

    def __init__(self, app: ASGIApp, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = allowed
        self.any = "*" in allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.any or scope["type"] != "http" or scope["path"] in HOST_FREE_PATHS:
            await self.app(scope, receive, send)
            return
        # A request without Host (HTTP/1.0) gets links to the server's own address: no
        # amplification there, so it is served.
        header = next((value for name, value in scope["headers"] if name == b"host"), None)
        if header is not None and not allows(self.allowed, header):
            shown = header.decode("latin-1")[:100]
            detail = (
                f"the Host header {shown!r} is not a name this service answers to "
                "(the operator lists them in ALLOWED_HOSTS)"
            )
            await send_refusal(send, 400, detail)
            return
        await self.app(scope, receive, send)
