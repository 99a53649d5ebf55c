"""The feed service: the selection a URL names, renders and their caches, ETags, and the one
answer (200/304, gzip) every path gives a poll.

Imports ical, readmodel, models, crud, timezone, core.
"""
