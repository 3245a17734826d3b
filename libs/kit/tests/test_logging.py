"""Structured logs: one JSON object per line, carrying the request id of the request being served."""

from __future__ import annotations

import json
import logging

import httpx
from fastapi import FastAPI

from cleanprod_kit.logging import JsonFormatter
from cleanprod_kit.requestid import RequestIdMiddleware


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter("test-service"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


async def test_access_and_app_logs_are_json_with_the_request_id() -> None:
    app = FastAPI()

    @app.get("/things/{name}")
    async def thing(name: str) -> dict[str, str]:
        logging.getLogger("cleanprod.test").info("looked up %s", name, extra={"thing": name})
        return {"name": name}

    app.add_middleware(RequestIdMiddleware)
    capture = Capture()
    root = logging.getLogger()
    root.addHandler(capture)
    previous = root.level
    root.setLevel(logging.INFO)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            await client.get("/things/Thép", headers={"X-Request-ID": "log-rid-1"})
    finally:
        root.removeHandler(capture)
        root.setLevel(previous)
    records = [json.loads(line) for line in capture.lines]
    app_line = next(r for r in records if r["logger"] == "cleanprod.test")
    assert app_line["msg"] == "looked up Thép" and app_line["thing"] == "Thép"
    assert app_line["request_id"] == "log-rid-1" and app_line["service"] == "test-service"
    access = next(r for r in records if r["logger"] == "cleanprod.access")
    assert access["path"] == "/things/Thép" and access["status"] == 200 and access["method"] == "GET"
    assert access["request_id"] == "log-rid-1" and access["duration_ms"] >= 0
