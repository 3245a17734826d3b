"""Receiving attachments: the multipart body is parsed as it arrives and the file part is written straight to a
temporary file while its SHA-256 is computed — never held in memory whole. The size limit is enforced on the bytes
received (not on a declared length), the type is decided by the content (magic bytes; for XLSX/DOCX the ZIP must
hold the right Office Open XML parts), and the file is then streamed into the blob store (blobs.py: PostgreSQL or
a local folder) under its SHA-256, which the store checks again.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import anyio
import filetype
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header
from starlette.requests import ClientDisconnect, Request
from starlette.responses import StreamingResponse

from cleanprod_kit.auth import Principal
from cleanprod_kit.errors import (
    BadRequest,
    NotFound,
    PayloadTooLarge,
    Unprocessable,
    UnsupportedMediaType,
    field_error,
)

from .blobs import BlobDigestMismatch, BlobStore, BlobTooLarge, file_chunks

FILE_FIELD = "file"
MAX_TEXT_FIELD_BYTES = 1024
MULTIPART_OVERHEAD_BYTES = 64 * 1024  # part headers, boundaries and small fields around the file
SNIFF_BYTES = 8192


@dataclass(frozen=True)
class FileType:
    media_type: str
    label: str
    extensions: tuple[str, ...]


PDF = FileType("application/pdf", "PDF document", (".pdf",))
PNG = FileType("image/png", "PNG image", (".png",))
JPEG = FileType("image/jpeg", "JPEG image", (".jpg", ".jpeg", ".jpe", ".jfif"))
DOCX = FileType(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word document (DOCX)", (".docx",)
)
XLSX = FileType(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel workbook (XLSX)", (".xlsx",)
)
ALLOWED = (PDF, PNG, JPEG, DOCX, XLSX)
_BY_SNIFFED_MIME = {"application/pdf": PDF, "image/png": PNG, "image/jpeg": JPEG}
ALLOWED_TEXT = "PDF, PNG, JPEG, XLSX or DOCX"


@dataclass
class ReceivedFile:
    path: Path
    filename: str
    size: int = 0
    head: bytes = b""
    sha256: str = ""
    fields: dict[str, str] = field(default_factory=dict)

    def discard(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


def clean_filename(raw: str) -> str:
    """The last path component, NFC-normalised, without control characters, at most 200 characters."""
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 200 - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else name[:200]
    return name


class _Parser:
    """python-multipart callbacks collecting one file part (to disk) and small text fields (in memory)."""

    def __init__(self, tmp_dir: Path, max_bytes: int) -> None:
        self.tmp_dir = tmp_dir
        self.max_bytes = max_bytes
        self.file: ReceivedFile | None = None
        self.fields: dict[str, str] = {}
        self.pending: list[bytes] = []  # file bytes parsed from the last chunk, written outside the callbacks
        self._hash = hashlib.sha256()
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._part: str | None = None  # "file" | "field" | "skip"
        self._field_name = ""
        self._field_value = bytearray()
        self._file_handle = None
        self.too_large = False
        self.problem: Exception | None = None

    # callbacks -------------------------------------------------------------------------------------------
    def on_part_begin(self) -> None:
        self._headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field = b""
        self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if name == FILE_FIELD and filename is not None:
            if self.file is not None:
                self.problem = BadRequest(
                    code="multiple_files", errors=[field_error(FILE_FIELD, None, "multiple_files")]
                )
                self._part = "skip"
                return
            fd, path = tempfile.mkstemp(dir=self.tmp_dir, prefix="upload-")
            self._file_handle = os.fdopen(fd, "wb")
            self.file = ReceivedFile(path=Path(path), filename=clean_filename(filename.decode("utf-8", "replace")))
            self._part = "file"
        elif filename is None and name:
            self._part = "field"
            self._field_name = name
            self._field_value = bytearray()
        else:
            self._part = "skip"

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._part == "file" and self.file is not None and not self.too_large:
            self.file.size += len(chunk)
            if self.file.size > self.max_bytes:
                self.too_large = True
                return
            if len(self.file.head) < SNIFF_BYTES:
                self.file.head += chunk[: SNIFF_BYTES - len(self.file.head)]
            self._hash.update(chunk)
            self.pending.append(chunk)
        elif self._part == "field":
            self._field_value += chunk
            if len(self._field_value) > MAX_TEXT_FIELD_BYTES:
                self.problem = Unprocessable(
                    code="validation_failed",
                    errors=[field_error(self._field_name, None, "too_long", max_length=MAX_TEXT_FIELD_BYTES)],
                )
                self._part = "skip"

    def on_part_end(self) -> None:
        if self._part == "field":
            try:
                self.fields[self._field_name] = self._field_value.decode("utf-8").strip()
            except UnicodeDecodeError:
                self.problem = BadRequest(code="form_field_not_utf8", params={"field": self._field_name})
        self._part = None

    # plumbing --------------------------------------------------------------------------------------------
    def callbacks(self) -> dict[str, object]:
        return {
            name: getattr(self, name)
            for name in (
                "on_part_begin",
                "on_header_field",
                "on_header_value",
                "on_header_end",
                "on_headers_finished",
                "on_part_data",
                "on_part_end",
            )
        }

    async def flush(self) -> None:
        if self.pending and self._file_handle is not None:
            data = b"".join(self.pending)
            self.pending.clear()
            await anyio.to_thread.run_sync(self._file_handle.write, data)

    async def close(self) -> None:
        await self.flush()
        if self._file_handle is not None:
            await anyio.to_thread.run_sync(self._file_handle.close)
            self._file_handle = None
        if self.file is not None:
            self.file.sha256 = self._hash.hexdigest()
            self.file.fields = self.fields


def _too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        code="file_too_large",
        params={"max_bytes": max_bytes, "max_mib": f"{max_bytes / 1_048_576:g}"},
        max_bytes=max_bytes,
    )


def _boundary(request: Request, max_bytes: int) -> bytes:
    """The multipart boundary (415 for any other body); 413 at once when the declared length is too large."""
    content_type, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise UnsupportedMediaType(code="multipart_required")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes + MULTIPART_OVERHEAD_BYTES:
        raise _too_large(max_bytes)
    return boundary


def _the_file(state: _Parser) -> ReceivedFile:
    """The received file part: 422 when it is missing or empty."""
    if state.file is None:
        raise Unprocessable(code="file_missing", errors=[field_error(FILE_FIELD, None, "file_missing")])
    if state.file.size == 0:
        state.file.discard()
        raise Unprocessable(code="file_empty", errors=[field_error(FILE_FIELD, None, "file_empty")])
    return state.file


async def receive_upload(request: Request, *, tmp_dir: Path, max_bytes: int) -> ReceivedFile:
    """Stream the multipart body to a temporary file; 413 as soon as the file exceeds `max_bytes`."""
    boundary = _boundary(request, max_bytes)
    tmp_dir.mkdir(parents=True, exist_ok=True)
    state = _Parser(tmp_dir, max_bytes)
    try:
        parser = MultipartParser(boundary, state.callbacks())  # type: ignore[arg-type]
        async for chunk in request.stream():
            parser.write(chunk)
            if state.too_large:
                raise _too_large(max_bytes)
            if state.problem is not None:
                raise state.problem
            await state.flush()
        parser.finalize()
        if state.problem is not None:
            raise state.problem
        if parser.state != MultipartState.END:
            raise BadRequest(
                "The multipart body ended before its closing boundary (truncated upload?).",
                slug="malformed-body",
                code="malformed_multipart",
            )
        await state.close()
    except FormParserError as exc:
        await _abandon(state)
        raise BadRequest(
            f"The multipart body is malformed ({exc}).", slug="malformed-body", code="malformed_multipart"
        ) from None
    except ClientDisconnect:
        await _abandon(state)
        raise BadRequest(code="upload_interrupted") from None
    except BaseException:
        await _abandon(state)
        raise
    return _the_file(state)


async def _abandon(state: _Parser) -> None:
    state.pending.clear()
    try:
        await state.close()
    finally:
        if state.file is not None:
            state.file.discard()


def _ooxml_type(path: Path) -> FileType | None:
    """DOCX or XLSX when the ZIP holds the Office Open XML parts of one (macro-enabled variants refused)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" not in names:
                return None
            with archive.open("[Content_Types].xml") as handle:
                content_types = handle.read(1_048_576).decode("utf-8", "replace")
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError, NotImplementedError, EOFError):
        return None
    if "macroEnabled" in content_types or any(n.endswith("vbaProject.bin") for n in names):
        return None
    if "word/document.xml" in names and "wordprocessingml.document.main+xml" in content_types:
        return DOCX
    if "xl/workbook.xml" in names and "spreadsheetml.sheet.main+xml" in content_types:
        return XLSX
    return None


async def detect_type(received: ReceivedFile) -> FileType:
    """The allowed type the content really is; 415 otherwise (also when the name claims another type)."""
    kind: FileType | None = None
    if received.head.startswith(b"PK\x03\x04"):
        kind = await anyio.to_thread.run_sync(_ooxml_type, received.path)
    else:
        sniffed = filetype.guess(received.head)
        kind = _BY_SNIFFED_MIME.get(sniffed.mime) if sniffed is not None else None
    if kind is None:
        sniffed = filetype.guess(received.head)
        what = f"looks like {sniffed.mime}" if sniffed is not None else "is of an unrecognised type"
        raise UnsupportedMediaType(
            code="unsupported_file_type",
            params={"filename": received.filename, "what": what, "allowed": ALLOWED_TEXT},
            detected=sniffed.mime if sniffed else None,
        )
    extension = os.path.splitext(received.filename)[1].lower()
    if extension and extension not in kind.extensions:
        raise UnsupportedMediaType(
            code="file_extension_mismatch",
            params={
                "filename": received.filename,
                "extension": extension,
                "actual": kind.label,
                "expected": kind.extensions[0],
            },
            detected=kind.media_type,
        )
    return kind


def download_name(filename: str, kind: FileType) -> str:
    stem = re.sub(r"\s+", " ", filename).strip() or "document"
    return stem if os.path.splitext(stem)[1].lower() in kind.extensions else stem + kind.extensions[0]


async def store(received: ReceivedFile, blobs: BlobStore, max_bytes: int) -> None:
    """Stream the received file into the store under its SHA-256 (content already stored is kept as it is)."""
    try:
        await blobs.put(received.sha256, file_chunks(received.path, blobs.chunk_bytes), max_bytes=max_bytes)
    except BlobTooLarge:
        raise _too_large(max_bytes) from None
    except BlobDigestMismatch:  # the temporary file changed under us: refuse rather than store a wrong name
        raise BadRequest(code="upload_interrupted") from None


Checked = TypeVar("Checked")


async def receive_and_store(
    request: Request,
    *,
    blobs: BlobStore,
    tmp_dir: Path,
    max_bytes: int,
    check: Callable[[ReceivedFile, FileType], Checked],
) -> tuple[ReceivedFile, FileType, Checked]:
    """Stream the upload to a temporary file in `tmp_dir`, type it by its content, let `check` refuse it (or read
    what it needs from the form), then store it under its SHA-256. The temporary file is gone afterwards, whatever
    happened."""
    received = await receive_upload(request, tmp_dir=tmp_dir, max_bytes=max_bytes)
    try:
        file_type = await detect_type(received)
        checked = check(received, file_type)
        await store(received, blobs, max_bytes)
    finally:
        received.discard()
    return received, file_type, checked


class StoredBlob(Protocol):
    """A row naming stored bytes (a document, a handbook version)."""

    sha256: str
    media_type: str
    filename: str


def stored_fields(received: ReceivedFile, file_type: FileType, uploader: Principal) -> dict[str, Any]:
    """The columns every row naming stored bytes fills from the upload (the download name, type, size, hash and
    who uploaded it)."""
    return {
        "filename": download_name(received.filename, file_type),
        "media_type": file_type.media_type,
        "size_bytes": received.size,
        "sha256": received.sha256,
        "uploaded_by_subject": uploader.subject,
        "uploaded_by_name": uploader.display_name,
    }


def multipart_upload(**fields: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI request body of an upload: a required part `file` and the optional text `fields`."""
    properties = {FILE_FIELD: {"type": "string", "format": "binary"}, **fields}
    schema = {"type": "object", "required": [FILE_FIELD], "properties": properties}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}


def attachment_disposition(filename: str) -> str:
    """Content-Disposition for a download; a name beyond ASCII (Vietnamese) as RFC 5987 `filename*`."""
    quoted = quote(filename)
    if quoted != filename:
        return f"attachment; filename*=utf-8''{quoted}"
    return f'attachment; filename="{filename}"'


async def stored_file(
    blobs: BlobStore,
    stored: StoredBlob,
    *,
    private: bool,
    log: logging.Logger,
    what: str,
    **ids: str,
) -> StreamingResponse:
    """The stored bytes streamed as a download: ETag and Repr-Digest from the SHA-256, never sniffed, not cached
    when `private`. Bytes missing from the store are logged (`what`, `ids`) and answered 404 `content_missing`."""
    sha256 = stored.sha256
    size = await blobs.size(sha256)
    if size is None:
        log.error(f"{what} content missing from storage", extra={**ids, "sha256": sha256, "storage": blobs.kind})
        raise NotFound(slug="content-missing", code="content_missing")
    digest = base64.b64encode(bytes.fromhex(sha256)).decode()
    headers = {
        "Content-Length": str(size),
        "Content-Disposition": attachment_disposition(stored.filename),
        "ETag": f'"{sha256}"',
        "Repr-Digest": f"sha-256=:{digest}:",
        "X-Content-Type-Options": "nosniff",
    }
    if private:
        headers["Cache-Control"] = "private, no-store"
    return StreamingResponse(blobs.get(sha256), media_type=stored.media_type, headers=headers)
