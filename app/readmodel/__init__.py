"""What reads show: the group index, public views with absolute links, labels, and what the
pages show of groups and meetings in a language (pages).

Imports models, crud, ical, i18n, timezone, core.
"""
