"""The console's page of invitations by email: how many follow each group (never who), and
removing an address on request; thin routes over app.delivery.subscribers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.api.deps import SessionDep, WriteSessionDep
from app.api.signin import PostedDep, SignedInDep, console_page
from app.api.templating import page_language
from app.auth import accounts
from app.delivery import subscribers
from app.i18n import catalogs, said
from app.models.subscribers import check_address

router = APIRouter(prefix="/admin", tags=["console"], include_in_schema=False)


def _page(
    request: Request, who: accounts.SignedIn, counts: subscribers.Counts, note: str | None = None
) -> HTMLResponse:
    context = {"who": who, "counts": counts, "note": note}
    return console_page(request, "admin/subscribers.html", context)


@router.get("/subscribers", response_class=HTMLResponse)
def read_subscribers(request: Request, who: SignedInDep, session: SessionDep) -> HTMLResponse:
    return _page(request, who, subscribers.counts(session))


@router.post("/subscribers/remove", response_class=HTMLResponse)
def remove_subscriber(
    request: Request, who: SignedInDep, form: PostedDep, session: WriteSessionDep
) -> HTMLResponse:
    """Forget an address (a data request); the answer says the same whether it was known."""
    _ = catalogs.translator(page_language(request))
    try:
        address = check_address(form.get("email", ""))
    except ValueError as exc:
        why = said.translated(str(exc), page_language(request)) or str(exc)
        return _page(request, who, subscribers.counts(session), _("Email %(why)s.") % {"why": why})
    subscribers.remove(session, address)
    session.flush()
    note = _("If that address was subscribed, it is now forgotten with every message to it.")
    return _page(request, who, subscribers.counts(session), note)
