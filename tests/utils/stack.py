"""The app's built middleware stack, layer by layer."""

from __future__ import annotations

from typing import TypeVar

from fastapi import FastAPI

Layer = TypeVar("Layer")


def layer(app: FastAPI, kind: type[Layer]) -> Layer:
    """The instance of `kind` in the app's built middleware stack."""
    found: object = app.middleware_stack
    while found is not None:
        if isinstance(found, kind):
            return found
        found = getattr(found, "app", None)
    raise AssertionError(f"{kind.__name__} is not in the middleware stack")
