"""The HTTP edge: protocol, middleware layers, the front and caches for polls, metrics.

Imports feeds, ical, core (never the routes in app.api). With app.api and app.main, the only
code that imports Starlette or FastAPI.
"""
