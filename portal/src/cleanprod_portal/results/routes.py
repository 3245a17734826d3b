"""`/results` (officers and auditors) and `/results/public` (anyone): the programme's verified savings by
sector, by district (and ward, staff only) and over time, against the target; each chart with its data table,
and every breakdown as CSV."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from ..deps import ApiClient, require_role
from ..i18n import current_language, gettext
from ..public.routes import _sector_names
from ..sessions import PortalSession
from ..templating import render
from . import figures

router = APIRouter(prefix="/results")
Staff = Annotated[PortalSession, Depends(require_role("officer", "auditor"))]
PeriodKind = Literal["quarter", "year"]
StaffGrouping = Literal["sector", "district", "ward", "period"]
PublicGrouping = Literal["sector", "district", "period"]


def _charts(summary: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    target = summary["target_pct"]
    return {
        "over_time": figures.savings_over_time(summary["by_period"], target, "chart-over-time"),
        "by_sector": figures.savings_by(
            summary["by_sector"], "sector", names, target, "chart-by-sector", gettext("Verified savings by sector")
        ),
        "by_district": figures.savings_by(
            summary["by_district"],
            "district",
            names,
            target,
            "chart-by-district",
            gettext("Verified savings by district"),
        ),
    }


def _csv(body: str, name: str) -> Response:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"', "Content-Language": current_language()},
    )


async def _page(request: Request, api: ApiClient, path: str, period: PeriodKind, *, public: bool) -> HTMLResponse:
    summary = await api.get(path, period=period)
    names = await _sector_names(api)
    return render(
        request,
        "results/public.html" if public else "results/staff.html",
        {
            "summary": summary,
            "names": names,
            "period": period,
            "charts": _charts(summary, names),
            "public": public,
            "sector_label": figures.sector_label,
            "period_label": figures.period_label,
        },
    )


async def _breakdown_csv(api: ApiClient, path: str, grouping: str, period: PeriodKind, *, public: bool) -> Response:
    summary = await api.get(path, period=period)
    names = await _sector_names(api)
    name = f"programme-results-public-{grouping}" if public else f"programme-results-{grouping}"
    return _csv(figures.csv_text(summary[f"by_{grouping}"], grouping, names, public=public), name)


@router.get("", response_class=HTMLResponse)
async def staff_results(
    request: Request, user: Staff, api: ApiClient, period: Annotated[PeriodKind, Query()] = "quarter"
) -> HTMLResponse:
    return await _page(request, api, "/programme/summary", period, public=False)


@router.get("/{grouping}.csv")
async def staff_csv(
    user: Staff, api: ApiClient, grouping: StaffGrouping, period: Annotated[PeriodKind, Query()] = "quarter"
) -> Response:
    return await _breakdown_csv(api, "/programme/summary", grouping, period, public=False)


@router.get("/public", response_class=HTMLResponse)
async def public_results(
    request: Request, api: ApiClient, period: Annotated[PeriodKind, Query()] = "quarter"
) -> HTMLResponse:
    return await _page(request, api, "/public/results", period, public=True)


@router.get("/public/{grouping}.csv")
async def public_csv(
    api: ApiClient, grouping: PublicGrouping, period: Annotated[PeriodKind, Query()] = "quarter"
) -> Response:
    return await _breakdown_csv(api, "/public/results", grouping, period, public=True)
