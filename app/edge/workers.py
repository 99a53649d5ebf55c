"""The HTTP protocol class of `serve --workers N`: worker processes are spawned, so uvicorn
finds the class by name, and it reads its header deadline from the settings (app.edge.protocol)."""

from __future__ import annotations

from app.core.config import get_settings
from app.edge.protocol import EdgeProtocol

PROTOCOL = "app.edge.workers:SettingsEdgeProtocol"


class SettingsEdgeProtocol(EdgeProtocol):
    """httptools EdgeProtocol with READ_TIMEOUT_SECONDS as its header deadline."""

    header_timeout = get_settings().read_timeout_seconds
