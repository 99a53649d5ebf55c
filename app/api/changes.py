"""The audit trail of writes, for token holders."""

from typing import Annotated

from fastapi import APIRouter, Query

from app import crud
from app.api.deps import TOKEN_ERRORS, SessionDep, WriterDep
from app.models import ChangePublic, ChangesPublic

router = APIRouter(prefix="/api/changes", tags=["changes"])


@router.get(
    "",
    response_model=ChangesPublic,
    responses=TOKEN_ERRORS,
    summary="Every write, newest first (token required)",
)
def read_changes(
    _actor: WriterDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ChangesPublic:
    rows, total = crud.list_changes(session, limit, offset)
    return ChangesPublic(
        data=[ChangePublic.model_validate(r, from_attributes=True) for r in rows], count=total
    )
