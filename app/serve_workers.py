"""The HTTP protocol class of `serve --workers N`: worker processes are spawned, so uvicorn
finds the class by name, and it reads its header deadline from the settings (app.edge)."""

from __future__ import annotations

from app.config import get_settings
from app.edge import EdgeProtocol

PROTOCOL = "app.serve_workers:SettingsEdgeProtocol"


class SettingsEdgeProtocol(EdgeProtocol):
    """EdgeProtocol with READ_TIMEOUT_SECONDS as its header deadline."""

    header_timeout = get_settings().read_timeout_seconds
