"""HTTP routes, one module per resource, and the pages' Jinja environment.

Imports any folder but app.cli; nothing but app.main imports it.
"""
