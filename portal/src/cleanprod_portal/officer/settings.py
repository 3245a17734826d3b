"""The programme's settings an officer keeps: enterprise login accounts (the registry creates them in Keycloak and
answers a one-time password, shown once on the page that answers the POST and never stored by the portal), sectors
and norms (list, add, edit), and the e-government webhook subscriptions with their deliveries, dead letters and
redelivery (`/integrations/webhooks`)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..api import ChangedMeanwhile, Conflict, FieldErrors
from ..deps import ApiClient
from ..enterprise.application_inputs import parse_date
from ..enterprise.numbers import NotANumber, parse_number
from ..forms import Form
from ..i18n import _
from ..streaming import pass_on
from ..templating import render
from .routes import Officer, OfficerReader, context
from .staff import sector_names

router = APIRouter(prefix="/officer")
DELIVERY_STATUSES = ("pending", "delivered", "dead")


# ---- enterprise login accounts ---------------------------------------------------------------------------------
@router.get("/enterprises", response_class=HTMLResponse)
async def enterprises(request: Request, user: OfficerReader, api: ApiClient) -> HTMLResponse:
    q = (request.query_params.get("q") or "").strip()[:200]
    page = await api.get("/enterprises", limit=50, q=q or None)
    return render(request, "officer/enterprises.html", context("/officer/enterprises", enterprises=page["items"], q=q))


@router.get("/facilities/export")
async def export_facilities(request: Request, user: OfficerReader, api: ApiClient) -> Response:
    """Every registered facility (the portal has no staff list of facilities to filter), the registry's export."""
    fmt = "xlsx" if request.query_params.get("format") == "xlsx" else "csv"
    return await pass_on(api, "/facilities/export", {"format": fmt})


async def _accounts_page(
    request: Request,
    api: Any,
    enterprise_id: UUID,
    *,
    form: Form | None = None,
    created: dict | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    enterprise = await api.get(f"/enterprises/{enterprise_id}")
    accounts = await api.get(f"/enterprises/{enterprise_id}/accounts")
    return render(
        request,
        "officer/accounts.html",
        context("/officer/enterprises", enterprise=enterprise, accounts=accounts, form=form or Form(), created=created),
        status_code=status_code,
    )


@router.get("/enterprises/{enterprise_id}/accounts", response_class=HTMLResponse)
async def accounts(request: Request, enterprise_id: UUID, user: OfficerReader, api: ApiClient) -> HTMLResponse:
    return await _accounts_page(request, api, enterprise_id)


@router.post("/enterprises/{enterprise_id}/accounts", response_class=HTMLResponse)
async def create_account(request: Request, enterprise_id: UUID, user: Officer, api: ApiClient) -> HTMLResponse:
    """The answer is the page with the one-time password (not a redirect: it must not be shown again)."""
    form = Form(await request.form())
    body = form.data(["username", "email", "first_name", "last_name"])
    try:
        created = (await api.post(f"/enterprises/{enterprise_id}/accounts", body)).data
    except (FieldErrors, Conflict) as exc:
        form.add_problem(exc, {"username": "username"})
        return await _accounts_page(request, api, enterprise_id, form=form, status_code=422)
    return await _accounts_page(request, api, enterprise_id, created=created)


# ---- sectors and norms -------------------------------------------------------------------------------------------
async def _sectors_page(
    request: Request, api: Any, *, form: Form | None = None, norm_form: Form | None = None, status_code: int = 200
) -> HTMLResponse:
    sectors = await api.get("/sectors")
    norms = await api.all_pages("/norms", max_items=400)
    return render(
        request,
        "officer/sectors.html",
        context(
            "/officer/sectors",
            sectors=sectors,
            norms=norms,
            form=form or Form(),
            norm_form=norm_form or Form(),
            sector_name=await sector_names(api),
            sector_options=[(s["code"], s["code"]) for s in sectors],
        ),
        status_code=status_code,
    )


@router.get("/sectors", response_class=HTMLResponse)
async def sectors(request: Request, user: OfficerReader, api: ApiClient) -> HTMLResponse:
    return await _sectors_page(request, api)


def _flag(form: Form, name: str) -> bool:
    return form.get(name) in ("1", "on", "true")


@router.post("/sectors", response_class=HTMLResponse)
async def add_sector(request: Request, user: Officer, api: ApiClient) -> Response:
    form = Form(await request.form())
    body = {**form.data(["code", "name_vi", "name_en"]), "priority": _flag(form, "priority")}
    try:
        await api.post("/sectors", body, idempotency_key=form.idempotency_key)
    except (FieldErrors, Conflict) as exc:
        form.add_problem(exc)
        return await _sectors_page(request, api, form=form, status_code=422)
    return RedirectResponse(f"/officer/sectors?saved={body['code']}", status_code=303)


@router.get("/sectors/{code}/edit", response_class=HTMLResponse)
async def edit_sector(request: Request, code: str, user: Officer, api: ApiClient) -> HTMLResponse:
    sector = await api.get(f"/sectors/{code}")
    form = Form({**sector, "priority": "1" if sector["priority"] else "", "version": str(sector["version"])})
    return render(request, "officer/sector_form.html", context("/officer/sectors", sector=sector, form=form))


@router.post("/sectors/{code}/edit", response_class=HTMLResponse)
async def save_sector(request: Request, code: str, user: Officer, api: ApiClient) -> Response:
    sector = await api.get(f"/sectors/{code}")
    form = Form(await request.form())
    body = {**form.data(["name_vi", "name_en"]), "priority": _flag(form, "priority")}
    try:
        await api.patch(f"/sectors/{code}", body, if_match=f'"{form.get("version")}"')
    except FieldErrors as exc:
        form.add_problem(exc)
    except ChangedMeanwhile:
        form.changed_meanwhile = True
        form.values["version"] = str(sector["version"])
    else:
        return RedirectResponse(f"/officer/sectors?saved={code}", status_code=303)
    return render(
        request,
        "officer/sector_form.html",
        context("/officer/sectors", sector=sector, form=form),
        status_code=409 if form.changed_meanwhile else 422,
    )


@router.post("/norms", response_class=HTMLResponse)
async def add_norm(request: Request, user: Officer, api: ApiClient) -> Response:
    form = Form(await request.form())
    body: dict[str, Any] = form.data(["circular", "sector_code", "product", "capacity_band", "unit", "source_url"])
    body = {k: v for k, v in body.items() if v is not None}
    try:
        value = parse_number(form.get("value"))
    except NotANumber:
        value = None
    if value is None:
        form.add_error("value", _("Enter a number, like 7,5"))
    body["value"] = value
    body["valid_from"], body["valid_to"] = parse_date(form, "valid_from"), parse_date(form, "valid_to")
    if not form.has_errors:
        try:
            await api.post("/norms", body, idempotency_key=form.idempotency_key)
        except (FieldErrors, Conflict) as exc:
            form.add_problem(exc)
        else:
            return RedirectResponse("/officer/sectors?norm_saved=1#norms", status_code=303)
    return await _sectors_page(request, api, norm_form=form, status_code=422)


# ---- e-government webhooks ---------------------------------------------------------------------------------------
@router.get("/webhooks", response_class=HTMLResponse)
async def webhooks(request: Request, user: OfficerReader, api: ApiClient) -> HTMLResponse:
    subscriptions = await api.all_pages("/integrations/webhooks", max_items=400)
    return render(request, "officer/webhooks.html", context("/officer/webhooks", subscriptions=subscriptions))


@router.get("/webhooks/{subscription_id}", response_class=HTMLResponse)
async def webhook(request: Request, subscription_id: UUID, user: OfficerReader, api: ApiClient) -> HTMLResponse:
    status = request.query_params.get("status") or None
    if status not in DELIVERY_STATUSES:
        status = None
    subscription = await api.get(f"/integrations/webhooks/{subscription_id}")
    deliveries = await api.get(
        f"/integrations/webhooks/{subscription_id}/deliveries",
        limit=100,
        status=status,
        cursor=request.query_params.get("cursor") or None,
    )
    return render(
        request,
        "officer/webhook.html",
        context(
            "/officer/webhooks",
            subscription=subscription,
            deliveries=deliveries["items"],
            next_cursor=deliveries.get("next_cursor"),
            status=status or "",
            statuses=DELIVERY_STATUSES,
            redelivered=request.query_params.get("redelivered"),
        ),
    )


@router.post("/webhooks/{subscription_id}/deliveries/{delivery_id}/redeliver")
async def redeliver(subscription_id: UUID, delivery_id: UUID, user: Officer, api: ApiClient) -> Response:
    await api.post(f"/integrations/webhooks/{subscription_id}/deliveries/{delivery_id}/redeliver")
    return RedirectResponse(f"/officer/webhooks/{subscription_id}?redelivered={delivery_id}", status_code=303)
