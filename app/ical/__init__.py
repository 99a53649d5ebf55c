"""iCalendar text: feed context and wording, events, calendars, headers, escaping.

Imports models, readmodel, timezone, core.
"""
