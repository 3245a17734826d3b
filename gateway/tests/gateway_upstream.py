"""A small upstream for gateway tests: a raw ASGI app served by uvicorn on a loopback port in its own thread
(its own event loop), that echoes what it received, streams uploads into a SHA-256, streams large downloads,
answers slowly on request, and serves an /openapi.json of its own."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import threading
from typing import Any

import uvicorn

from cleanprod_kit.openapi import FIELD_ERROR_SCHEMA, PROBLEM_SCHEMA
from cleanprod_kit.testing.servers import start_in_thread, stop_thread
from infra.ports import free_port


def closed_port() -> int:
    """A port nobody listens on (bound then released)."""
    return free_port()


def _openapi(name: str) -> dict[str, Any]:
    prefix = {"registry": "/api/v1/sectors", "applications": "/api/v1/calls"}.get(name, f"/api/v1/{name}")
    page_schema = {
        "type": "object",
        "title": f"{name} page",
        "properties": {"items": {"type": "array"}, "service": {"const": name}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": name, "version": "1"},
        "paths": {
            prefix: {
                "get": {
                    "summary": f"list ({name})",
                    "tags": [name],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Page"}}},
                        }
                    },
                }
            },
            "/internal/events": {"post": {"summary": "internal", "responses": {"204": {"description": "ok"}}}},
        },
        "components": {
            "schemas": {
                "Page": page_schema,
                # The kit's, as every real service defines it (identical everywhere, so shared when merged).
                "Problem": PROBLEM_SCHEMA,
                "FieldError": FIELD_ERROR_SCHEMA,
            }
        },
        "tags": [{"name": name}],
    }


class Upstream:
    """Records every request it gets in `self.requests` (dicts with method, path, raw_path, query, headers)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.requests: list[dict[str, Any]] = []
        self.uploads: list[dict[str, Any]] = []
        self.first_chunk_seen = threading.Event()  # upload: set after the first MiB has arrived
        self.release_download = threading.Event()  # download: the rest is sent only after the client saw data
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            loop="asyncio",
            http="h11",
            interface="asgi3",
        )
        self.server = uvicorn.Server(config)

    def start(self) -> Upstream:
        self.thread = start_in_thread(self.server, "upstream")
        return self

    def stop(self) -> None:
        stop_thread(self.server, self.thread)

    @property
    def last(self) -> dict[str, Any]:
        return self.requests[-1]

    async def app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        record = {
            "method": scope["method"],
            "path": path,
            "raw_path": scope.get("raw_path", b"").decode("latin-1"),
            "query": scope.get("query_string", b"").decode("latin-1"),
            "headers": headers,
            "service": self.name,
        }
        self.requests.append(record)
        query = dict(p.split("=", 1) for p in record["query"].split("&") if "=" in p)

        if path == "/openapi.json":
            return await _json(send, 200, _openapi(self.name))
        if path == "/readyz":
            return await _json(send, 200, {"status": "ready"})
        if path.endswith("/slow"):
            await asyncio.sleep(float(query.get("delay", "3")))
            return await _json(send, 200, {"slow": True})
        if path.endswith("/upload"):
            digest = hashlib.sha256()
            size = chunks = 0
            while True:
                message = await receive()
                body = message.get("body", b"")
                digest.update(body)
                size += len(body)
                chunks += 1 if body else 0
                if size >= 1 << 20:
                    self.first_chunk_seen.set()
                if not message.get("more_body"):
                    break
            result = {
                "sha256": digest.hexdigest(),
                "size": size,
                "chunks": chunks,
                "content_length": dict(headers).get("content-length"),
                "transfer_encoding": dict(headers).get("transfer-encoding"),
            }
            self.uploads.append(result)
            return await _json(send, 200, result)
        if path.endswith("/download"):
            size = int(query.get("size", str(1 << 20)))
            wait = query.get("wait") == "1"
            await _start(
                send,
                200,
                [
                    (b"content-type", b"application/octet-stream"),
                    (b"content-length", str(size).encode()),
                ],
            )
            block = bytes(range(256)) * 256  # 64 KiB
            sent = 0
            while sent < size:
                n = min(len(block), size - sent)
                await send({"type": "http.response.body", "body": block[:n], "more_body": True})
                sent += n
                if wait and sent == n:
                    # Only go on once the client has seen the first block: proves the gateway does not buffer.
                    ok = await asyncio.to_thread(self.release_download.wait, 10)
                    if not ok:
                        return
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return None
        if path.endswith("/broken"):
            # Promises 1 MiB, sends 128 KiB, then dies: the gateway must not hand out a "complete" short body.
            await _start(
                send,
                200,
                [
                    (b"content-type", b"application/octet-stream"),
                    (b"content-length", str(1 << 20).encode()),
                ],
            )
            await send({"type": "http.response.body", "body": b"x" * (128 * 1024), "more_body": True})
            raise RuntimeError("upstream died mid-answer (test)")
        if path.endswith("/gzip"):
            body = gzip.compress(b'{"compressed": true}')
            await _start(
                send,
                200,
                [
                    (b"content-type", b"application/json"),
                    (b"content-encoding", b"gzip"),
                    (b"content-length", str(len(body)).encode()),
                ],
            )
            await send({"type": "http.response.body", "body": body})
            return None
        if path.endswith("/spoof-response"):
            await _start(
                send,
                200,
                [
                    (b"content-type", b"application/json"),
                    (b"x-request-id", b"upstream-id"),
                    (b"connection", b"keep-alive"),
                    (b"x-upstream", b"yes"),
                    (b"content-length", b"2"),
                ],
            )
            await send({"type": "http.response.body", "body": b"{}"})
            return None
        # Default: drain the body and echo the request.
        size = 0
        while True:
            message = await receive()
            size += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        record["body_size"] = size
        return await _json(send, int(query.get("status", "200")), record)


async def _start(send: Any, status: int, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})


async def _json(send: Any, status: int, payload: Any) -> None:
    body = json.dumps(payload).encode()
    await _start(send, status, [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())])
    await send({"type": "http.response.body", "body": body})
