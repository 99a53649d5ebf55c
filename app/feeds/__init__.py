"""The feed service: selections, renders and their caches, ETags.

Imports ical, readmodel, models, crud, timezone, core.
"""
