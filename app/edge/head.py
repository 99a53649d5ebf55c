"""HEAD wherever GET is served (RFC 9110 §9.3.2), for every route through one layer: a HEAD
goes in as a GET and comes back with GET's status and headers (Content-Length included) and no
body. Uptime monitors, link checkers and `curl -I` use it; no route declares HEAD itself."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Set in the inner scope of a HEAD: metrics and logs name the method the client used.
ASKED_HEAD = "u4ssc.asked_head"


def method_asked(scope: Scope) -> str:
    """The request's method as the client sent it (HEAD, though the layers inside see GET)."""
    return "HEAD" if scope.get(ASKED_HEAD) else str(scope.get("method", ""))


class HeadAsGet:
    """The outermost layer: everything inside sees a GET; the body never leaves."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        # A copy: the server reads its own scope's method to know the body must not be sent.
        inner = {**scope, "method": "GET", ASKED_HEAD: True}
        ended = False

        async def send_head(message: Message) -> None:
            nonlocal ended
            if message["type"] != "http.response.body":
                await send(message)
            elif not ended and not message.get("more_body", False):
                ended = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app(inner, receive, send_head)
