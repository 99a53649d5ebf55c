"""The six official UN languages: which one a request speaks (languages), the catalogs of the
service's fixed words (catalogs, compiled from locale/<lang>/LC_MESSAGES/messages.po by
scripts/i18n.sh), and dates in words per language (dates).

Imports nothing of app but app.core.
"""
