"""An application's documents: the list with size, type and SHA-256, the upload (streamed through the portal to
the API's documents endpoint) and the download (passed back from the API with the user's token).

The upload is never held whole by the portal: the browser's multipart body is parsed as it arrives
(python-multipart's push parser). The fields before the file (`csrf_token`, `kind`; the form puts them first)
are read, the CSRF token is checked, and then a new multipart body — `kind` and the file part — is sent to the
API while the file bytes keep arriving. The API decides type and size (415/413) and the page says why in words.
With JavaScript the form posts through htmx and `upload-progress.js` moves the progress bar; without it the plain
form posts and the page is shown again.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from python_multipart.multipart import MultipartParser, parse_options_header

from .. import security
from ..api import ApiProblem, Conflict, FieldErrors
from ..deps import ApiClient, Enterprise
from ..formatting import number
from ..forms import Form
from ..i18n import N_, _, gettext
from ..streaming import streamed
from ..templating import render
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
MAX_FIELDS_BYTES = 64 * 1024  # what may come before the file part (the token and the kind are a few dozen bytes)
MAX_FIELD_BYTES = 1024


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
class UploadInterrupted(Exception):
    """The browser's body ended inside the file part: the API must not receive a shortened file as complete."""


class MultipartRelay:
    """Callbacks of python-multipart's push parser: small fields before the file are kept, the file part's bytes are
    queued for the outgoing body."""

    def __init__(self, boundary: bytes) -> None:
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.file_content_type = "application/octet-stream"
        self.file_started = False
        self.file_done = False
        self.ended = False
        self.fields_too_large = False
        self.pending: list[bytes] = []
        self._headers: dict[bytes, bytes] = {}
        self._header_field = b""
        self._header_value = b""
        self._part: str | None = None
        self._name = ""
        self._value = bytearray()
        self.parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field_cb,
                "on_header_value": self._header_value_cb,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
                "on_end": self._end,
            },
        )

    def write(self, chunk: bytes) -> None:
        self.parser.write(chunk)

    def take(self) -> list[bytes]:
        out, self.pending = self.pending, []
        return out

    # callbacks
    def _part_begin(self) -> None:
        self._headers = {}

    def _header_field_cb(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _header_value_cb(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field = self._header_value = b""

    def _headers_finished(self) -> None:
        _value, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if name == "file" and filename is not None and not self.file_started:
            self.file_started = True
            self.filename = filename.decode("utf-8", "replace")
            self.file_content_type = self._headers.get(b"content-type", b"application/octet-stream").decode(
                "latin-1", "replace"
            )
            self._part = "file"
        elif filename is None and name and not self.file_started:
            self._part, self._name, self._value = "field", name, bytearray()
        else:
            self._part = "skip"

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part == "file":
            self.pending.append(bytes(data[start:end]))
        elif self._part == "field":
            self._value += data[start:end]
            if len(self._value) > MAX_FIELD_BYTES:
                self.fields_too_large = True
                self._part = "skip"

    def _part_end(self) -> None:
        if self._part == "field":
            self.fields[self._name] = self._value.decode("utf-8", "replace")
        elif self._part == "file":
            self.file_done = True
        self._part = None

    def _end(self) -> None:
        self.ended = True


def _quote(value: str) -> str:
    """A name in a multipart header as browsers write it (UTF-8, quotes and line breaks escaped)."""
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


async def _read_until_file(chunks: AsyncIterator[bytes], relay: MultipartRelay) -> bool:
    """Feed the parser until the file part begins (True) or the body ends without one (False)."""
    seen = 0
    while not relay.file_started and not relay.ended:
        try:
            chunk = await chunks.__anext__()
        except StopAsyncIteration:
            return False
        relay.write(chunk)
        seen += len(chunk)
        if seen > MAX_FIELDS_BYTES and not relay.file_started:
            return False
    return relay.file_started


def upload_error(problem: ApiProblem) -> str:
    """The API's refusal of a file, in words for the user."""
    code = problem.code or ""
    if problem.status == 415 and code != "file_extension_mismatch":
        return _("The file must be a PDF, PNG, JPEG, Word (DOCX) or Excel (XLSX) document.")
    if problem.status == 413:
        limit = problem.body.get("max_bytes")  # the API's limit (APPLICATIONS_MAX_DOCUMENT_BYTES)
        if isinstance(limit, int) and limit > 0:
            return _("The file is larger than %(size)s MB.", size=f"{limit / 1_048_576:g}")
        return _("The file is too large.")
    if isinstance(problem, FieldErrors) and problem.errors:
        return next(iter(problem.errors.values()))
    return problem.summary or _("The file could not be uploaded.")


@router.post("/{application_id}/documents", response_class=HTMLResponse)
@security.checks_csrf_itself
async def upload(request: Request, application_id: str, user: Enterprise, api: ApiClient) -> Response:
    _type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if not boundary or not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise security.CsrfRefused()  # not our form: nothing is passed on
    relay = MultipartRelay(boundary)
    chunks = request.stream().__aiter__()
    has_file = await _read_until_file(chunks, relay)
    given = request.headers.get(security.CSRF_HEADER) or relay.fields.get(security.CSRF_FIELD)
    if not security.tokens_match(user.csrf_token, given):
        raise security.CsrfRefused()
    form = Form({"kind": relay.fields.get("kind") or "other"})
    if not has_file or not relay.filename:
        form.add_error("file", _("Choose a file to upload"))
        return await _render(request, api, application_id, form, status_code=422)

    boundary_out = "----cleanprod-portal-" + secrets.token_hex(12)
    kind = relay.fields.get("kind") or "other"

    async def body() -> AsyncIterator[bytes]:
        yield (
            f'--{boundary_out}\r\nContent-Disposition: form-data; name="kind"\r\n\r\n{kind}\r\n'
            f'--{boundary_out}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{_quote(relay.filename or "file")}"\r\n'
            f"Content-Type: {relay.file_content_type}\r\n\r\n"
        ).encode()
        for piece in relay.take():
            yield piece
        while not relay.file_done:
            try:
                chunk = await chunks.__anext__()
            except StopAsyncIteration:
                raise UploadInterrupted() from None
            relay.write(chunk)
            for piece in relay.take():
                yield piece
        yield f"\r\n--{boundary_out}--\r\n".encode()

    try:
        response = await api.raw(
            "POST",
            f"/applications/{tasks.checked_id(application_id)}/documents",
            content=body(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary_out}", "Accept": "application/json"},
        )
        await response.aclose()
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
