"""No bad input ever gets a 500: every operation in the merged OpenAPI document is called through the gateway
with hostile variants — wrong types for each field, huge strings, nulls, wrong JSON shapes, invalid UTF-8,
deep nesting, garbage path and query parameters — and every answer must be a 4xx (or a 2xx where the variant
happens to be acceptable) with a problem+json body for errors."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import pytest

HOSTILE_IDS = [
    "0",
    "-1",
    "not-a-uuid",
    "00000000-0000-0000-0000-000000000000",
    "%C3%28",
    "a" * 300,
    "..%2F..%2Fetc%2Fpasswd",
    "1%20OR%201=1",
    "a%00b",
]
HOSTILE_QUERY = [
    {"limit": "-1"},
    {"limit": "abc"},
    {"limit": "100000"},
    {"cursor": "!!!"},
    {"cursor": "eyJ4Ijox"},
    {"q": "'; DROP TABLE enterprises; --"},
    {"q": "Ạ" * 5000},
    {"on": "2026-13-45"},
    # NUL in a parameter; cursors that are valid base64 JSON of other types ([1e300], [[1]], {"a":1})
    {"q": "th\x00ep"},
    {"cursor": "WzFlKzMwMF0"},
    {"cursor": "W1sxXV0"},
    {"cursor": "eyJhIjoxfQ"},
]


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def _wrong_value(prop: dict[str, Any]) -> list[Any]:
    kind = prop.get("type")
    if kind == "string":
        return [12345, None, ["list"], "Ạ" * 20_000, "NUL\x00inside", 0]
    if kind in ("integer", "number"):
        return ["not a number", -(10**30), 1e308, None, True]
    if kind == "array":
        return ["not a list", [None] * 3, {"x": 1}]
    if kind == "object":
        return ["not an object", [1]]
    if kind == "boolean":
        return ["maybe", 3, 0]
    return [None, {"nested": {"deeper": [1, "x"]}}]


def _body_variants(operation: dict[str, Any], spec: dict[str, Any]) -> list[bytes]:
    content = (operation.get("requestBody") or {}).get("content") or {}
    if "application/json" not in content:
        return []
    schema = _resolve(content["application/json"].get("schema", {}), spec)
    variants: list[Any] = [{}, [], "text", None, 7, {"unknown_field": 1}]
    properties = schema.get("properties", {})
    for name, prop in list(properties.items())[:12]:
        for bad in _wrong_value(_resolve(prop, spec) if "$ref" in prop else prop):
            variants.append({name: bad})
    raw = [json.dumps(v).encode() for v in variants]
    raw += [
        b'{"name": "C\xf4ng ty \xff\xfe"}',
        b"{" * 5000 + b"}" * 5000,
        b'{"a": 1,,}',
        b"\x00\x01\x02",
        json.dumps({k: "x" for k in properties}).encode(),
    ]
    return raw


def _concrete(path: str) -> list[str]:
    if "{" not in path:
        return [path]
    out = []
    for value in HOSTILE_IDS[:5] + [str(uuid.uuid4())]:
        concrete = path
        while "{" in concrete:
            start, end = concrete.index("{"), concrete.index("}")
            concrete = concrete[:start] + value + concrete[end + 1 :]
        out.append(concrete)
    return out


def _send(client: httpx.Client, method: str, url: str, **kw: Any) -> httpx.Response:
    for _ in range(20):
        response = client.request(method, url, **kw)
        if response.status_code != 429:
            return response
        time.sleep(float(response.headers.get("retry-after", "1")))
    return response


@pytest.mark.parametrize("username", ["officer1", "ent-hanoisteel"])
def test_hostile_requests_never_get_a_500(stack, tokens, username: str) -> None:
    with httpx.Client(base_url=stack.url("gateway"), timeout=30) as client:
        spec = client.get("/api/openapi.json").json()
        operations = [
            (path, method.upper(), op)
            for path, item in spec["paths"].items()
            for method, op in item.items()
            if method in ("get", "post", "put", "patch", "delete")
        ]
        assert len(operations) > 30
        failures: list[str] = []
        sent = 0
        for path, method, operation in operations:
            headers = {**tokens.headers(username), "If-Match": '"1"', "Content-Type": "application/json"}
            urls = _concrete(path)
            # hostile path parameters, then (on one URL) every hostile body and query string
            plan: list[tuple[str, dict[str, Any]]] = [(url, {}) for url in urls]
            if username == "officer1":
                plan += [(urls[-1], {"content": body}) for body in _body_variants(operation, spec)]
            if method == "GET":
                plan += [(urls[-1], {"params": q}) for q in HOSTILE_QUERY]
            for url, kw in plan:
                response = _send(client, method, url, headers=headers, **kw)
                sent += 1
                problem_ok = response.status_code < 400 or response.headers.get("content-type", "").startswith(
                    "application/problem+json"
                )
                if response.status_code >= 500 or not problem_ok:
                    failures.append(f"{method} {url} {str(kw)[:120]} → {response.status_code} {response.text[:200]}")
        assert sent > 500
        assert not failures, "\n".join(failures[:20])
