"""The officer's dashboard (pipeline by status, overdue items, budget per call) and what every officer page shares:
the side navigation and the role dependencies (auditors read these pages; only officers get the buttons).

Overdue (the API keeps no due date on an application, so the portal applies one stated rule, docs/portal.md):
- under review (`under_review`) for more than `REVIEW_OVERDUE_DAYS` days since it was (last) submitted;
- approved but not started for more than `START_OVERDUE_DAYS` days since the decision."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ..charts import Chart, Series, bar_chart
from ..deps import ApiClient, require_role
from ..i18n import N_, _
from ..sessions import PortalSession
from ..statuses import APPLICATION_STATUSES
from ..templating import render

router = APIRouter(prefix="/officer")

OfficerReader = Annotated[PortalSession, Depends(require_role("officer", "auditor"))]
Officer = Annotated[PortalSession, Depends(require_role("officer"))]

NAVIGATION: list[tuple[str, str]] = [
    ("/officer", N_("Dashboard")),
    ("/officer/calls", N_("Calls")),
    ("/officer/applications", N_("Applications")),
    ("/officer/verifications", N_("Verifier assignment")),
    ("/payments", N_("Payment work list")),  # payments/routes.py: payments to approve, the work list
    ("/officer/enterprises", N_("Enterprise accounts")),
    ("/officer/sectors", N_("Sectors and norms")),
    ("/officer/webhooks", N_("E-government webhooks")),
    ("/results", N_("Programme results")),  # the staff version (exact figures, wards); the header links the public one
    ("/handbooks/manage", N_("Publish handbooks")),
]
REVIEW_OVERDUE_DAYS = 30
START_OVERDUE_DAYS = 60
DASHBOARD_MAX_APPLICATIONS = 2000


def context(active: str, **extra: Any) -> dict[str, Any]:
    return {"navigation": NAVIGATION, "active": active, **extra}


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def overdue_items(applications: list[dict], now: datetime) -> list[dict]:
    """(application, reason msgid, days) for each overdue application, oldest first."""
    found = []
    for a in applications:
        if a["status"] == "under_review" and (since := _parse_time(a.get("submitted_at"))):
            days = (now - since).days
            if days > REVIEW_OVERDUE_DAYS:
                found.append({"application": a, "reason": N_("Under review for %(days)s days"), "days": days})
        elif a["status"] == "approved" and (since := _parse_time(a.get("decided_at"))):
            days = (now - since).days
            if days > START_OVERDUE_DAYS:
                found.append({"application": a, "reason": N_("Approved %(days)s days ago, not started"), "days": days})
    return sorted(found, key=lambda item: -item["days"])


def budget_chart(calls: list[dict]) -> Chart:
    """Committed and remaining budget per call, stacked (the generic bar chart), in million đồng so the axis
    stays readable; the dashboard's own table (`#budget-table`) carries the exact amounts in đồng."""
    return bar_chart(
        "budget-chart",
        _("Budget committed and remaining per call"),
        _("A bar per call (by code): the part of its budget committed to approved projects, then what remains."),
        [c["code"] for c in calls],
        [
            Series(_("Committed"), [c["committed_vnd"] / 1_000_000 for c in calls]),
            Series(_("Remaining"), [c["remaining_vnd"] / 1_000_000 for c in calls]),
        ],
        y_label=_("Million đồng"),
        x_label=_("Call"),
        unit=_("million đồng"),
        decimals=0,
        stacked=True,
    )


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request, user: OfficerReader, api: ApiClient) -> HTMLResponse:
    applications = await api.all_pages("/applications", max_items=DASHBOARD_MAX_APPLICATIONS)
    calls = await api.all_pages("/calls")
    counts = Counter(a["status"] for a in applications)
    pipeline = [(status, counts.get(status, 0)) for status in APPLICATION_STATUSES]
    chart = budget_chart(calls)
    return render(
        request,
        "officer/dashboard.html",
        context(
            "/officer",
            pipeline=pipeline,
            total=len(applications),
            truncated=len(applications) >= DASHBOARD_MAX_APPLICATIONS,
            overdue=overdue_items(applications, datetime.now(UTC)),
            calls=calls,
            chart=chart,
            review_days=REVIEW_OVERDUE_DAYS,
            start_days=START_OVERDUE_DAYS,
        ),
    )
