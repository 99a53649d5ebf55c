"""Marking the service's fixed words for the catalogs where they are written: `N_` returns its
argument unchanged; scripts/i18n.sh extracts its calls, and app.i18n translates the words where
a person reads them. The folders below app.i18n (core, timezone) mark their messages with it."""

from __future__ import annotations


def N_(message: str) -> str:
    """Marks a message for extraction where it is defined; translated where it is shown."""
    return message
