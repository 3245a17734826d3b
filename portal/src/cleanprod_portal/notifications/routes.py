"""Notifications for every logged-in user (issue 10): the header's bell, the list with "mark as read" / "mark all
as read", and the preferences (statutory kinds shown locked). Everything is the API's (`/api/v1/notifications…`,
contract 2 in docs/notifications.md): the texts come rendered in the user's language, the API decides what each
user sees and refuses a statutory kind switched off (its message is shown at that kind).

The bell costs a page nothing: `base.html` renders a plain link to the list, and htmx replaces it after the page
has loaded with `GET /notifications/bell` (the link with the unread count), so the count's gateway call runs
beside the page, not before it. Without JavaScript the link stays, without a count."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..api import ApiProblem, FieldErrors
from ..deps import ApiClient, User, safe_next
from ..forms import Form
from ..i18n import N_, gettext
from ..templating import render

router = APIRouter(prefix="/notifications")
PAGE_SIZE = 25

KIND_NAMES: dict[str, str] = {
    "dossier_received": N_("Dossier received"),
    "screening_ineligible": N_("Dossier not eligible"),
    "changes_requested": N_("Dossier sent back for changes"),
    "decision_made": N_("Decision on a dossier"),
    "tranche_payable": N_("Tranche payable"),
    "tranche_paid": N_("Tranche paid"),
    "verification_concluded": N_("Verification concluded"),
    "review_assigned": N_("Review assigned"),
    "review_due_soon": N_("Review due soon"),
    "review_overdue": N_("Review overdue"),
    "ready_to_decide": N_("Reviews complete: ready to decide"),
    "dossier_due_soon": N_("Dossier approaching its due date"),
    "dossier_overdue": N_("Dossier past its due date"),
    "webhook_dead_lettered": N_("Webhook delivery abandoned"),
    "verifier_assigned": N_("Verification assigned"),
    "measurements_can_start": N_("Measurements can start"),
    "message_received": N_("New message"),
    "supplement_requested": N_("Supplement requested"),
}
CHANNELS = ("in_app", "email")
# Who can be told each kind (docs/notifications.md "Who is told what"): the settings page offers a person only the
# kinds that can reach one of their roles — an enterprise is never asked about reviews or webhooks. A kind no role
# lists here (newer than this portal) is offered to everyone rather than hidden.
KINDS_FOR_ROLE: dict[str, frozenset[str]] = {
    "enterprise": frozenset(
        {
            "dossier_received",
            "screening_ineligible",
            "changes_requested",
            "decision_made",
            "tranche_payable",
            "tranche_paid",
            "verification_concluded",
            "supplement_requested",
            "message_received",
        }
    ),
    "reviewer": frozenset({"review_assigned", "review_due_soon", "review_overdue"}),
    "officer": frozenset(
        {"ready_to_decide", "dossier_due_soon", "dossier_overdue", "webhook_dead_lettered", "message_received"}
    ),
    "verifier": frozenset({"verifier_assigned", "measurements_can_start"}),
}
_KNOWN_KINDS = frozenset().union(*KINDS_FOR_ROLE.values())


def kind_name(kind: str) -> str:
    return gettext(KIND_NAMES[kind]) if kind in KIND_NAMES else kind


@router.get("/bell", response_class=HTMLResponse)
async def bell(request: Request, user: User, api: ApiClient) -> HTMLResponse:
    """The header's link with the unread count (swapped in by htmx). If the count cannot be had, the plain link."""
    try:
        unread = (await api.get("/notifications/unread-count")).get("unread")
    except ApiProblem:
        unread = None
    return render(request, "notifications/_bell.html", {"unread": unread})


@router.get("", response_class=HTMLResponse)
async def notification_list(
    request: Request,
    user: User,
    api: ApiClient,
    unread: Annotated[bool, Query()] = False,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> HTMLResponse:
    page = await api.get("/notifications", limit=PAGE_SIZE, cursor=cursor, unread="true" if unread else None)
    return render(
        request,
        "notifications/list.html",
        {
            "items": page.get("items", []),
            "next_cursor": page.get("next_cursor"),
            "unread_only": unread,
            "kind_name": kind_name,
        },
    )


def _back(form: Form) -> str:
    return safe_next(form.get("back") or None, "/notifications")


@router.post("/read-all")
async def read_all(request: Request, user: User, api: ApiClient) -> Response:
    form = Form(await request.form())
    await api.post("/notifications/read-all")
    return RedirectResponse(_back(form), status_code=303)


@router.post("/{notification_id}/read")
async def mark_read(request: Request, notification_id: str, user: User, api: ApiClient) -> Response:
    """Mark one as read; with `open` set, go on to the page it is about (its link), else back to the list."""
    form = Form(await request.form())
    await api.post(f"/notifications/{_checked(notification_id)}/read")
    if form.get("open"):
        return RedirectResponse(safe_next(form.get("link") or None, "/notifications"), status_code=303)
    return RedirectResponse(_back(form), status_code=303)


def _checked(notification_id: str) -> str:
    from ..enterprise.application_tasks import checked_id

    return checked_id(notification_id)


# ---- preferences -------------------------------------------------------------------------------------------------
async def preference_rows(api: ApiClient, roles: list[str]) -> list[dict[str, Any]]:
    """The caller's preferences for the kinds that can reach one of `roles` (the page shows and saves only these,
    so a kind it does not show is never switched off by its absent checkbox)."""
    preferences = await api.get("/notification-preferences")
    rows = preferences.get("items", preferences) if isinstance(preferences, dict) else preferences
    mine = frozenset().union(*(KINDS_FOR_ROLE.get(role, frozenset()) for role in roles))
    return [row for row in rows if row["kind"] in mine or row["kind"] not in _KNOWN_KINDS]


async def _preferences_page(
    request: Request, api: ApiClient, user: User, form: Form | None = None, status_code: int = 200
) -> HTMLResponse:
    rows = await preference_rows(api, user.roles)
    return render(
        request,
        "notifications/preferences.html",
        {"rows": rows, "form": form or Form(), "kind_name": kind_name, "channels": CHANNELS},
        status_code=status_code,
    )


@router.get("/preferences", response_class=HTMLResponse)
async def preferences(request: Request, user: User, api: ApiClient) -> HTMLResponse:
    return await _preferences_page(request, api, user)


def changes_from(form: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every optional kind and channel as the form has it (an unticked box is absent from a form post)."""
    changes = []
    for row in rows:
        if row.get("statutory"):
            continue
        for channel in CHANNELS:
            changes.append(
                {"kind": row["kind"], "channel": channel, "enabled": form.get(f"{row['kind']}.{channel}") == "on"}
            )
    return changes


@router.post("/preferences", response_class=HTMLResponse)
async def save_preferences(request: Request, user: User, api: ApiClient) -> Response:
    submitted = await request.form()
    rows = await preference_rows(api, user.roles)
    try:
        await api.put("/notification-preferences", changes_from(submitted, rows))
    except FieldErrors as problem:
        form = Form(submitted)
        form.add_problem(problem, preference_fields(problem, rows))
        return await _preferences_page(request, api, user, form, status_code=422)
    return RedirectResponse("/notifications/preferences?saved=1", status_code=303)


def preference_fields(problem: FieldErrors, rows: list[dict[str, Any]]) -> dict[str, str]:
    """The API's error paths (`0.enabled`: the change's position) → the kind's checkbox (`<kind>.<channel>`)."""
    changes = [f"{row['kind']}.{channel}" for row in rows if not row.get("statutory") for channel in CHANNELS]
    mapping: dict[str, str] = {}
    for path in problem.errors:
        head = path.split(".", 1)[0]
        if head.isdigit() and int(head) < len(changes):
            mapping[path] = changes[int(head)]
    return mapping
