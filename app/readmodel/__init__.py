"""What reads show: the group index, public views with absolute links, labels.

Imports models, crud, timezone, core.
"""
