"""The Host guard: a request naming an authority outside ALLOWED_HOSTS is refused before any
work, and an allowed one is written back in one canonical spelling.

Links in feeds, JSON and pages are built from the Host when PUBLIC_BASE_URL is unset, and each
distinct base URL is a rendering context of its own, whose event texts are kept. So the whole
authority is checked, not the name alone (issue 21: `127.0.0.1:20001`, `localhost:0018401`,
`LOCALHOST.` each made a new context): lower case, no trailing dot, the port as a number
without leading zeros, the scheme's default port dropped; a port is allowed when an entry names
it or it is the port the server listens on. The contexts a request can create are then a fixed
set derived from the settings."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from app.edge.guard import send_refusal

DEFAULT_PORTS = {"http": 80, "https": 443}

Authority = tuple[str, int | None]


def parse_authority(text: str) -> Authority | None:
    """(name, port) of a Host header or an ALLOWED_HOSTS entry, normalised; None if malformed."""
    text = text.strip().lower()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None
        name, rest = text[: end + 1], text[end + 1 :]
    else:
        name, colon, port_text = text.partition(":")
        rest = colon + port_text
    name = name.rstrip(".")
    if not name or any(char in name for char in "/?#@ \\"):
        return None
    if not rest:
        return name, None
    digits = rest[1:]
    if not rest.startswith(":") or not digits.isascii() or not digits.isdigit():
        return None
    port = int(digits)
    return (name, port) if 0 < port < 65536 else None


def host_name(header: bytes) -> str:
    """The host of a Host header, lower case, without port or trailing dot; IPv6 in brackets."""
    found = parse_authority(header.decode("latin-1"))
    return found[0] if found else ""


class Allowed:
    """The authorities this service answers to: ALLOWED_HOSTS entries, with or without port."""

    def __init__(self, entries: frozenset[str]) -> None:
        self.any = "*" in entries
        parsed = [parse_authority(entry) for entry in entries if entry != "*"]
        self.names = frozenset(found[0] for found in parsed if found and found[1] is None)
        self.pairs = frozenset(found for found in parsed if found and found[1] is not None)

    def canonical(self, header: bytes, scope: Scope) -> bytes | None:
        """The Host as links will show it, or None when this service does not answer to it."""
        found = parse_authority(header.decode("latin-1"))
        if found is None:
            return None
        name, port = found
        if port == DEFAULT_PORTS.get(scope.get("scheme", "http")):
            port = None
        server = scope.get("server")
        own_port = server[1] if server else None
        allowed = self.any or (
            (name in self.names and (port is None or port == own_port))
            or (name, port) in self.pairs
        )
        if not allowed:
            return None
        return (name if port is None else f"{name}:{port}").encode("latin-1")


# Answers that do not depend on the Host: probes (which often use the pod's or container's IP
# address as Host) and metrics keep working whatever name they use.
HOST_FREE_PATHS = frozenset({"/health", "/ready", "/metrics"})


def _detail(header: bytes) -> str:
    shown = header.decode("latin-1")[:100]
    return (
        f"the Host header {shown!r} is not a name and port this service answers to "
        "(the operator lists them in ALLOWED_HOSTS)"
    )


class HostGuard:
    """Pure ASGI, outermost: 400 for a Host outside `allowed`; an allowed one rewritten in its
    canonical spelling, so every layer inside builds the same base URL from it."""

    def __init__(self, app: ASGIApp, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = Allowed(allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in HOST_FREE_PATHS:
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        for index, (name, value) in enumerate(headers):
            if name == b"host":
                canonical = self.allowed.canonical(value, scope)
                if canonical is None:
                    await send_refusal(send, 400, _detail(value))
                    return
                if canonical != value:
                    headers = [*headers[:index], (b"host", canonical), *headers[index + 1 :]]
                    scope = {**scope, "headers": headers}
                break
        # A request without Host (HTTP/1.0) gets links to the server's own address: no
        # amplification there, so it is served.
        await self.app(scope, receive, send)
