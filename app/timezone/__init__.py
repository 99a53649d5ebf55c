"""Wall-clock times in IANA zones <-> UTC instants, and VTIMEZONE text from tzdata.

Imports app.core only.
"""
