"""Bearer tokens, console accounts and sessions, throttles.

Imports models, core.
"""
