"""The one check that an answer is the kit's problem+json (services, gateway and end-to-end tests alike)."""

from __future__ import annotations

from typing import Any

import httpx

from ..errors import TYPE_BASE

PROBLEM = "application/problem+json"


def assert_problem(
    response: httpx.Response,
    status: int | tuple[int, ...],
    slug: str | None = None,
    *,
    field: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """Assert `response` is a problem+json answer with `status` (or one of several) and return its body.

    Always: the status, the content type, and a body with the same `status`, a `title`, a `detail` and a `type`
    under the kit's problem base URL. Optionally: the problem's `slug` (the end of `type`); a `field` named in
    `errors` (and that error's `code`); or, without a field, the problem's own `code`.
    """
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, f"{response.status_code} (expected {status}): {response.text}"
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body = response.json()
    assert body["status"] == response.status_code and body["title"] and body["detail"], body
    assert body["type"].startswith(TYPE_BASE), body
    if slug is not None:
        assert body["type"].endswith("/" + slug), body
    if field is not None:
        matching = [e for e in body.get("errors", []) if e["field"] == field]
        assert matching, body
        if code is not None:
            assert matching[0]["code"] == code, body
    elif code is not None:
        assert body.get("code") == code, body
    return body
