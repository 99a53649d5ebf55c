"""Settings, the database engine and sessions, the data revision, conditional requests.

Imports nothing else of app.
"""
