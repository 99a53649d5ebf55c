"""The store's lifecycle: the schema's migrations (migrations/) and the seed file.

Imports models, crud, readmodel, timezone, core.
"""
