"""The enterprise profile: the registry's enterprise record as a summary list, its edit form (PATCH with
If-Match; a 412 shows the "changed meanwhile" banner and keeps what was typed), and the branch units a head
office registers itself (tax code `<own 10 digits>-NNN`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..api import ChangedMeanwhile, Conflict, FieldErrors, NotFound
from ..deps import ApiClient, Enterprise
from ..forms import Form
from ..i18n import gettext
from . import registry
from .routes import workspace_page

router = APIRouter(prefix="/enterprise/profile")

EDITABLE = (
    "name",
    "name_en",
    "legal_form",
    "size_class",
    "address",
    "ward",
    "district",
    "province",
    "contact_name",
    "contact_email",
    "contact_phone",
)
REQUIRED = ("name", "legal_form", "size_class", "address", "ward", "province")  # sent as "" so the API names them
BRANCH_FIELDS = ("branch_number", *EDITABLE)


def _body(form: Form, names: tuple[str, ...]) -> dict:
    body = form.data(names)
    for name in REQUIRED:
        if name in body and body[name] is None:
            body[name] = ""
    return body


def _page(request: Request, template: str, context: dict, status_code: int = 200) -> HTMLResponse:
    choices = {
        "legal_forms": registry.choices(registry.LEGAL_FORMS),
        "size_classes": registry.choices(registry.SIZE_CLASSES),
    }
    return workspace_page(request, template, "/enterprise/profile", {**choices, **context}, status_code)


@router.get("", response_class=HTMLResponse)
async def view_profile(request: Request, user: Enterprise, api: ApiClient) -> HTMLResponse:
    units = await registry.enterprise_units(api)
    own = registry.own_record(user, units)
    return _page(
        request,
        "enterprise/profile.html",
        {
            "enterprise": own,
            "branches": registry.branches(user, units),
            "legal_form": registry.label(registry.LEGAL_FORMS, own and own["legal_form"]),
            "size_class": registry.label(registry.SIZE_CLASSES, own and own["size_class"]),
            "can_add_branch": bool(own) and len((user.tax_code or "").replace("-", "")) == 10,
        },
    )


async def _own_or_404(user: Enterprise, api: ApiClient) -> dict:
    own = registry.own_record(user, await registry.enterprise_units(api))
    if own is None:
        raise NotFound(404)
    return own


@router.get("/edit", response_class=HTMLResponse)
async def edit_profile_form(request: Request, user: Enterprise, api: ApiClient) -> HTMLResponse:
    own = await _own_or_404(user, api)
    form = Form({**{k: own.get(k) or "" for k in EDITABLE}, "version": own["version"]})
    return _page(request, "enterprise/profile_edit.html", {"form": form, "enterprise": own})


@router.post("/edit", response_class=HTMLResponse)
async def save_profile(request: Request, user: Enterprise, api: ApiClient) -> Response:
    own = await _own_or_404(user, api)
    form = Form(await request.form())
    try:
        await api.patch(
            f"/enterprises/{own['id']}", _body(form, EDITABLE), if_match=registry.if_match(form.get("version"))
        )
    except FieldErrors as exc:
        form.summary = gettext("Check the values marked below.")
        form.add_problem(exc)
        return _page(request, "enterprise/profile_edit.html", {"form": form, "enterprise": own}, 422)
    except ChangedMeanwhile:
        form.changed_meanwhile = True
        form.values["version"] = own["version"]  # the next save is checked against the record as it is now
        return _page(request, "enterprise/profile_edit.html", {"form": form, "enterprise": own}, 412)
    return RedirectResponse("/enterprise/profile?saved=1", status_code=303)


@router.get("/branches/new", response_class=HTMLResponse)
async def new_branch_form(request: Request, user: Enterprise, api: ApiClient) -> HTMLResponse:
    own = await _own_or_404(user, api)
    form = Form({"province": own["province"], "legal_form": own["legal_form"], "size_class": own["size_class"]})
    return _page(request, "enterprise/branch_new.html", {"form": form, "enterprise": own})


@router.post("/branches/new", response_class=HTMLResponse)
async def register_branch(request: Request, user: Enterprise, api: ApiClient) -> Response:
    own = await _own_or_404(user, api)
    form = Form(await request.form())
    number = str(form.get("branch_number")).strip()
    if not (len(number) == 3 and number.isdigit()):
        form.add_error("branch_number", gettext("Enter the 3 digits after the hyphen, for example 001"))
        return _page(request, "enterprise/branch_new.html", {"form": form, "enterprise": own}, 422)
    body = {"tax_code": f"{own['tax_code']}-{number}", **_body(form, EDITABLE)}
    try:
        await api.post("/enterprises", body, idempotency_key=form.idempotency_key)
    except (FieldErrors, Conflict) as exc:
        form.summary = gettext("Check the values marked below.")
        form.add_problem(exc, {"tax_code": "branch_number"})
        return _page(request, "enterprise/branch_new.html", {"form": form, "enterprise": own}, 422)
    return RedirectResponse("/enterprise/profile?branch_added=1", status_code=303)
