"""The secretariat's console without HTTP: forms, saves, dashboard and audit views.

Imports crud, delivery, readmodel, models, timezone, core.
"""
