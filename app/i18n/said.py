"""Messages written in English below the catalogs (validation, refused wall-clock times, crud's
Invalid) said again in a page's language. Each such message is made from a marked template
(`N_("%(day)s %(clock)s does not exist in %(zone)s: ...")`), so the catalog's templates are
read back as patterns: the English message is matched to one, and its translation is filled
with the same values. A message no template makes is left as it is (`translated` says None),
for the page to mark as English."""

from __future__ import annotations

import math
import re
from functools import cache

from babel.messages.mofile import read_mo

from app.i18n import catalogs
from app.i18n.languages import DEFAULT

_PLACEHOLDER = re.compile(r"%\(([a-z_0-9]+)\)[sd]|%%")
# A template with fewer letters of its own than this would match too much ("%(a)s: %(b)s").
_LEAST_LITERAL = 6


@cache
def _catalog(lang: str) -> tuple[dict[str, str], list[tuple[re.Pattern[str], str]]]:
    """The language's plain messages, and its templates as patterns, most specific first."""
    path = catalogs.LOCALE_DIR / lang / "LC_MESSAGES" / f"{catalogs.DOMAIN}.mo"
    with path.open("rb") as source:
        catalog = read_mo(source)
    plain: dict[str, str] = {}
    templates: list[tuple[int, re.Pattern[str], str]] = []
    for message in catalog:
        if not isinstance(message.id, str) or not message.id or not message.string:
            continue
        assert isinstance(message.string, str)
        if "%(" not in message.id:
            plain[message.id] = message.string
            continue
        literal = _PLACEHOLDER.sub("", message.id)
        if sum(char.isalpha() for char in literal) < _LEAST_LITERAL:
            continue
        templates.append((len(literal), _pattern(message.id), message.string))
    templates.sort(key=lambda entry: -entry[0])
    return plain, [(pattern, string) for _, pattern, string in templates]


def _pattern(template: str) -> re.Pattern[str]:
    parts: list[str] = []
    seen: set[str] = set()
    position = 0
    for found in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[position : found.start()]))
        name = found.group(1)
        if name is None:
            parts.append("%")
        elif name in seen:
            parts.append(f"(?P={name})")
        else:
            seen.add(name)
            parts.append(f"(?P<{name}>.+?)")
        position = found.end()
    parts.append(re.escape(template[position:]))
    return re.compile("".join(parts), re.DOTALL)


def translated(text: str, lang: str) -> str | None:
    """`text` in `lang` when a marked message or template makes it, else None. The values
    filled into a template are translated too when they are marked words themselves."""
    if lang == DEFAULT:
        return text
    plain, templates = _catalog(lang)
    if text in plain:
        return plain[text]
    for pattern, string in templates:
        match = pattern.fullmatch(text)
        if match is not None:
            values = {name: plain.get(value, value) for name, value in match.groupdict().items()}
            return string % values
    return None


def wait_text(seconds: int, lang: str) -> str:
    """A wait as people say it in `lang`: "a few seconds", "30 seconds", "5 minutes" (as
    app.auth.limits says it in English)."""
    _ = catalogs.translator(lang)
    ngettext = catalogs.plural_translator(lang)
    if seconds <= 5:
        return _("a few seconds")
    if seconds < 60:
        return ngettext("%(num)d second", "%(num)d seconds", seconds) % {"num": seconds}
    minutes = math.ceil(seconds / 60)
    if minutes == 1:
        return _("a minute")
    return ngettext("%(num)d minute", "%(num)d minutes", minutes) % {"num": minutes}
