"""A browser's file upload passed on to the API's documents endpoint as it arrives: the one path for every
upload of an application document (the enterprise's documents, the verifier's measurement evidence).

The upload is never held whole by the portal: the browser's multipart body is parsed as it arrives
(python-multipart's push parser). The fields before the file (`csrf_token`, `kind`; the forms put them first) are
read, the CSRF token is checked, and then a new multipart body — the fields the route chooses and the file part —
is sent to the API while the file bytes keep arriving. The API decides type and size (415/413); `upload_error`
says why in words. Routes using it are marked `security.checks_csrf_itself` (the app-wide check would buffer the
body).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header

from . import security
from .api import Api, ApiProblem, ApiResult, FieldErrors
from .i18n import _

MAX_FIELDS_BYTES = 64 * 1024  # what may come before the file part (the token and the kind are a few dozen bytes)
MAX_FIELD_BYTES = 1024


class UploadInterrupted(Exception):
    """The browser's body ended inside the file part: the API must not receive a shortened file as complete."""


class MultipartRelay:
    """Callbacks of python-multipart's push parser: small fields before the file are kept, the file part's bytes are
    queued for the outgoing body."""

    def __init__(self, boundary: bytes, file_field: str = "file", max_field_bytes: int = MAX_FIELD_BYTES) -> None:
        self.file_field = file_field
        self.max_field_bytes = max_field_bytes
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
        if name == self.file_field and filename is not None and not self.file_started:
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
            if len(self._value) > self.max_field_bytes:
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


class IncomingUpload:
    """A form post with one file, read up to the file's first bytes (`receive`); `send` passes it on."""

    def __init__(self, relay: MultipartRelay, chunks: AsyncIterator[bytes], has_file: bool) -> None:
        self._relay = relay
        self._chunks = chunks
        self.has_file = has_file and bool(relay.filename)

    @property
    def fields(self) -> dict[str, str]:
        """The small form fields that came before the file."""
        return self._relay.fields

    @property
    def filename(self) -> str | None:
        return self._relay.filename

    async def _body(self, boundary: str, fields: dict[str, str]) -> AsyncIterator[bytes]:
        relay = self._relay
        head = "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in fields.items()
        )
        yield (
            f'{head}--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{_quote(relay.filename or "file")}"\r\n'
            f"Content-Type: {relay.file_content_type}\r\n\r\n"
        ).encode()
        for piece in relay.take():
            yield piece
        while not relay.file_done:
            try:
                chunk = await self._chunks.__anext__()
            except StopAsyncIteration:
                raise UploadInterrupted() from None
            relay.write(chunk)
            for piece in relay.take():
                yield piece
        yield f"\r\n--{boundary}--\r\n".encode()

    async def send(self, api: Api, path: str, fields: dict[str, str]) -> ApiResult:
        """POSTs `fields` and the file (as the API's `file` part) to `path` while the file arrives; the API's
        refusals raise as every API call's do. The answer's JSON (e.g. the new document) is returned."""
        boundary = "----cleanprod-portal-" + secrets.token_hex(12)
        response = await api.raw(
            "POST",
            path,
            content=self._body(boundary, fields),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Accept": "application/json"},
        )
        try:
            await response.aread()
        finally:
            await response.aclose()
        data = response.json() if "json" in response.headers.get("content-type", "") and response.content else None
        return ApiResult(data, response.headers.get("etag"), response.status_code, dict(response.headers))


async def receive(
    request: Request, csrf_token: str, file_field: str = "file", max_field_bytes: int = MAX_FIELD_BYTES
) -> IncomingUpload:
    """Reads a multipart form post up to its file part and checks its CSRF token (header `X-CSRF-Token` from htmx,
    or a field before the file): a post without a valid one raises `CsrfRefused` before anything is sent on.
    `max_field_bytes`: forms with a text before the file (a message, an answer) allow longer fields."""
    content_type = request.headers.get("content-type", "")
    _type, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary or not content_type.startswith("multipart/form-data"):
        raise security.CsrfRefused()  # not our form: nothing is passed on
    relay = MultipartRelay(boundary, file_field, max_field_bytes)
    chunks = request.stream().__aiter__()
    seen = 0
    while not relay.file_started and not relay.ended:
        try:
            chunk = await chunks.__anext__()
        except StopAsyncIteration:
            break
        relay.write(chunk)
        seen += len(chunk)
        if seen > MAX_FIELDS_BYTES and not relay.file_started:
            break
    given = request.headers.get(security.CSRF_HEADER) or relay.fields.get(security.CSRF_FIELD)
    if not security.tokens_match(csrf_token, given):
        raise security.CsrfRefused()
    return IncomingUpload(relay, chunks, relay.file_started)


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
