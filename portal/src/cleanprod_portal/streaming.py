"""Passing a file of the API (an export, a document, a report) on to the browser as it arrives, and the
printable verification report as a sandboxed page (enterprise, officer and verifier screens alike)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi.responses import Response, StreamingResponse

from .api import Api

PASSED_HEADERS = ("content-type", "content-encoding", "content-disposition", "content-length", "etag", "last-modified")


async def pass_on(api: Api, path: str, params: dict[str, Any] | None = None) -> StreamingResponse:
    from urllib.parse import urlencode

    query = {k: v for k, v in (params or {}).items() if v not in (None, "")}
    target = f"{path}?{urlencode(query)}" if query else path
    return streamed(await api.raw("GET", target, headers={"Accept": "*/*"}))


def streamed(
    response: Any,
    passed: tuple[str, ...] = PASSED_HEADERS,
    default_type: str = "application/octet-stream",
    private: bool = True,
) -> StreamingResponse:
    """An API answer still being read (`Api.raw`) as the browser's answer: the `passed` headers, the body chunk
    by chunk, the API connection closed at the end; `private` ones (the user's own files) are never stored."""
    headers: dict[str, Any] = {name: response.headers[name] for name in passed if name in response.headers}
    if private:
        headers["Cache-Control"] = "private, no-store"

    async def content() -> AsyncIterator[bytes]:
        try:
            async for chunk in response.aiter_raw():
                yield chunk
        finally:
            await response.aclose()

    media_type = headers.pop("content-type", default_type)
    return StreamingResponse(content(), media_type=media_type, headers=headers)


async def sandboxed_report(api: Api, case_id: str) -> Response:
    """The API's printable verification report as a sandboxed page (its own styles; no script, loads nothing)."""
    response = await api.raw("GET", f"/verifications/{case_id}/report", headers={"Accept": "text/html"})
    try:
        content = await response.aread()
    finally:
        await response.aclose()
    return Response(
        content,
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"},
    )
