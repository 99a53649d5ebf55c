"""What leaves the service: the outbox, mail, webhooks, announcements, change feed.

Imports ical, readmodel, models, crud, timezone, core.
"""
