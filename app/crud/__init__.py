"""Reads and writes of groups and meetings: the one place that changes the store.

Every write bumps the data revision, keeps the audit trail and commits as a whole. The parts
live in `common` (errors, clock, If-Match, audit), `groups` and `meetings`; callers use
`crud.<name>`. Imports models, timezone and core only.
"""

from app.crud.common import (
    SEED_ACTOR,
    Conflict,
    Expected,
    Invalid,
    NotFound,
    PreconditionFailed,
    check_expected,
    list_changes,
    now,
    on_write,
)
from app.crud.groups import (
    create_group,
    get_group,
    group_etag,
    group_ids_covering,
    group_ids_in_query,
    group_snapshot,
    update_group,
)
from app.crud.meetings import (
    MEETING_ORDER,
    MeetingQuery,
    cancel_meeting,
    change_meeting,
    create_meeting,
    get_meeting,
    list_meetings,
    meeting_etag,
    meeting_filter,
    meeting_snapshot,
    new_uid,
    purge_meeting,
    update_meeting,
)

__all__ = [
    "MEETING_ORDER",
    "SEED_ACTOR",
    "Conflict",
    "Expected",
    "Invalid",
    "MeetingQuery",
    "NotFound",
    "PreconditionFailed",
    "cancel_meeting",
    "change_meeting",
    "check_expected",
    "create_group",
    "create_meeting",
    "get_group",
    "get_meeting",
    "group_etag",
    "group_ids_covering",
    "group_ids_in_query",
    "group_snapshot",
    "list_changes",
    "list_meetings",
    "meeting_etag",
    "meeting_filter",
    "meeting_snapshot",
    "new_uid",
    "now",
    "on_write",
    "purge_meeting",
    "update_group",
    "update_meeting",
]
