"""An application's documents: the list with size, type and SHA-256, the upload (streamed through the portal to
the API's documents endpoint by `uploads`, the portal's one upload relay) and the download (passed back from the
API with the user's token).

The API decides type and size (415/413) and the page says why in words. With JavaScript the form posts through
htmx and `upload-progress.js` moves the progress bar; without it the plain form posts and the page is shown again.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .. import security, uploads
from ..api import ApiProblem, Conflict, FieldErrors
from ..deps import ApiClient, Enterprise
from ..formatting import number
from ..forms import Form
from ..i18n import N_, _, gettext
from ..streaming import streamed
from ..templating import render
from ..uploads import upload_error
from . import application_tasks as tasks
from .application_steps import documents_of
from .routes import NAVIGATION

router = APIRouter(prefix=tasks.APPLICATIONS_PATH)

DOCUMENT_KINDS: dict[str, str] = {
    "application_form": N_("Application form"),
    "feasibility_study": N_("Feasibility study"),
    "technical_specification": N_("Technical specification"),
    "quotation": N_("Quotation"),
    "energy_audit": N_("Energy audit report"),
    "contract": N_("Contract"),
    "invoice": N_("Invoice"),
    "completion_report": N_("Completion report"),
    "other": N_("Other document"),
}
MEDIA_TYPES = {
    "application/pdf": "PDF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word (DOCX)",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel (XLSX)",
}


def file_size(size: int | None) -> str:
    if size is None:
        return ""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{number(size / 1024, 0)} KB"
    return f"{number(size / (1024 * 1024), 1)} MB"


def kind_name(kind: str | None) -> str:
    return gettext(DOCUMENT_KINDS[kind]) if kind in DOCUMENT_KINDS else (kind or "")


# ---- the documents page ------------------------------------------------------------------------------------------
async def _render(
    request: Request, api: ApiClient, application_id: str, form: Form, status_code: int = 200
) -> HTMLResponse:
    application = await tasks.load_application(api, application_id)
    documents = await documents_of(api, application_id)
    return render(
        request,
        "enterprise/applications/documents.html",
        {
            "application": application,
            "documents": documents,
            "form": form,
            "navigation": NAVIGATION,
            "active": tasks.APPLICATIONS_PATH,
            "kinds": [(k, gettext(v)) for k, v in DOCUMENT_KINDS.items()],
            "kind_name": kind_name,
            "file_size": file_size,
            "media_types": MEDIA_TYPES,
            "editable": tasks.is_editable(application),
            "tasks_url": tasks.application_url(application_id, "/tasks"),
        },
        status_code=status_code,
    )


@router.get("/{application_id}/documents", response_class=HTMLResponse)
async def documents_page(request: Request, application_id: str, user: Enterprise, api: ApiClient) -> HTMLResponse:
    return await _render(request, api, application_id, Form({"kind": "other"}))


# ---- upload ------------------------------------------------------------------------------------------------------
@router.post("/{application_id}/documents", response_class=HTMLResponse)
@security.checks_csrf_itself
async def upload(request: Request, application_id: str, user: Enterprise, api: ApiClient) -> Response:
    incoming = await uploads.receive(request, user.csrf_token)
    kind = incoming.fields.get("kind") or "other"
    form = Form({"kind": kind})
    if not incoming.has_file:
        form.add_error("file", _("Choose a file to upload"))
        return await _render(request, api, application_id, form, status_code=422)
    try:
        await incoming.send(api, f"/applications/{tasks.checked_id(application_id)}/documents", {"kind": kind})
    except (FieldErrors, Conflict) as problem:
        form.add_error("file", upload_error(problem))
        return await _render(request, api, application_id, form, status_code=422)
    except ApiProblem as problem:
        if problem.status in (413, 415):
            form.add_error("file", upload_error(problem))
            return await _render(request, api, application_id, form, status_code=problem.status)
        raise
    return RedirectResponse(tasks.application_url(application_id, "/documents") + "#documents-list", status_code=303)


# ---- download ----------------------------------------------------------------------------------------------------
PASSED_HEADERS = ("content-type", "content-length", "content-encoding", "content-disposition", "etag", "repr-digest")


@router.get("/{application_id}/documents/{document_id}")
async def download(
    request: Request, application_id: str, document_id: str, user: Enterprise, api: ApiClient
) -> Response:
    return await document_file(api, application_id, document_id)


async def document_file(api: ApiClient, application_id: str, document_id: str) -> Response:
    """A document passed back from the API with the user's token (also the staff screens' download)."""
    path = f"/applications/{tasks.checked_id(application_id)}/documents/{tasks.checked_id(document_id)}"
    return streamed(await api.raw("GET", path, headers={"Accept": "*/*"}), PASSED_HEADERS)
