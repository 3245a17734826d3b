"""One OpenAPI document for the whole public API, merged from each service's /openapi.json.

- Only paths the gateway actually routes to that service are kept (a service's /internal/* endpoints are not
  public and are not advertised).
- Components are merged section by section; a name two services define differently is prefixed with the service
  name (`Registry_Page`, `Applications_Page`) and every `$ref` in that service's part is rewritten to match.
  Identical definitions are shared.
- The result is cached for `openapi_cache_seconds`; while a service is unreachable it is left out, the document
  says so in `info.description`, and the gateway tries again after `openapi_retry_seconds`.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

log = logging.getLogger("cleanprod.gateway.openapi")

Fetch = Callable[[str], Awaitable[dict[str, Any]]]

REF_PREFIX = "#/components/"


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value in renames:
                out[key] = renames[value]
            else:
                out[key] = _rewrite_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, renames) for v in node]
    return node


def _prefix(service: str) -> str:
    return service[:1].upper() + service[1:] + "_"


WRITES = ("put", "patch", "post", "delete")


def _schema_properties(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"].get(schema["$ref"].rsplit("/", 1)[-1], {})
    return schema.get("properties") or {}


def _json_properties(doc: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    return _schema_properties(doc, ((response.get("content") or {}).get("application/json") or {}).get("schema") or {})


def _needs_if_match(operation: dict[str, Any]) -> bool:
    return any(
        p.get("in") == "header" and p.get("name") == "If-Match" and p.get("required")
        for p in operation.get("parameters", [])
    )


def add_links(doc: dict[str, Any]) -> None:
    """OpenAPI links, so clients (and Schemathesis' stateful phase) can follow the API: a created resource (201,
    body `id`) → every operation on `<collection>/{x_id}[/<action>]`, with the ETag of the creation for writes
    that need If-Match; reading a resource (GET 200) → its writes and actions that need If-Match, with the ETag
    just read."""
    paths = doc.get("paths") or {}
    for collection, item in paths.items():
        created = ((item.get("post") or {}).get("responses") or {}).get("201")
        if created and "id" in _json_properties(doc, created):
            for target_path, target in paths.items():
                _link_creation(created, collection, target_path, target)
    # Read, then write with the ETag just read: GET <resource> → its writes (and actions) that need If-Match.
    for resource, item in paths.items():
        read = ((item.get("get") or {}).get("responses") or {}).get("200")
        if read is not None and "{" in resource:
            for target_path, target in paths.items():
                _link_read(read, resource, target_path, target)


def _operations(target: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    return ((method, op) for method, op in target.items() if isinstance(op, dict) and "operationId" in op)


def _link_creation(created: dict[str, Any], collection: str, target_path: str, target: dict[str, Any]) -> None:
    """Links from a creation under `collection` to the operations on the created item `target_path`."""
    rest = target_path[len(collection) :]
    if not rest.startswith("/{") or not target_path.startswith(collection):
        return
    name = rest[2 : rest.index("}")]
    if "{" in rest[rest.index("}") + 1 :]:
        return
    for method, operation in _operations(target):
        parameters: dict[str, str] = {f"path.{name}": "$response.body#/id"}
        for parent in (p for p in collection.split("/") if p.startswith("{")):
            parameters[f"path.{parent[1:-1]}"] = f"$request.path.{parent[1:-1]}"
        if method in WRITES and _needs_if_match(operation):
            parameters["header.If-Match"] = "$response.header.ETag"  # the created version
        link = f"{method}{rest}".replace("/", "_").replace("{", "").replace("}", "")
        created.setdefault("links", {})[link] = {"operationId": operation["operationId"], "parameters": parameters}


def _link_read(read: dict[str, Any], resource: str, target_path: str, target: dict[str, Any]) -> None:
    """Links from reading `resource` to its writes and actions (`target_path`) that need If-Match."""
    action = target_path[len(resource) :]
    if not target_path.startswith(resource) or (
        action and (not action.startswith("/") or "{" in action or action.count("/") > 1)
    ):
        return
    names = [part[1:-1] for part in resource.split("/") if part.startswith("{")]
    for method, operation in _operations(target):
        if method in WRITES and _needs_if_match(operation):
            parameters = {f"path.{n}": f"$request.path.{n}" for n in names}
            parameters["header.If-Match"] = "$response.header.ETag"
            link = f"{method}{action}".replace("/", "_") or method
            read.setdefault("links", {})[link] = {"operationId": operation["operationId"], "parameters": parameters}


GATEWAY_PROBLEMS = {
    "429": "Rate limit reached (per client); retry after Retry-After seconds",
    "502": "The service behind the gateway could not be reached",
    "504": "The service behind the gateway did not answer in time",
}


def _add_gateway_problems(merged: dict[str, Any]) -> None:
    """Every operation may also get the gateway's own problems (as problem+json, like the services' errors)."""
    if "Problem" not in merged["components"].get("schemas", {}):
        return
    content = {"application/problem+json": {"schema": {"$ref": f"{REF_PREFIX}schemas/Problem"}}}
    for item in merged["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "responses" in operation:
                for status, description in GATEWAY_PROBLEMS.items():
                    response: dict[str, Any] = {"description": description, "content": content}
                    if status == "429":
                        response["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
                    operation["responses"].setdefault(status, response)


def merge_documents(
    parts: list[tuple[str, dict[str, Any]]],
    *,
    own: dict[str, Any] | None = None,
    allowed_prefixes: dict[str, tuple[str, ...]] | None = None,
    missing: list[str] | None = None,
    title: str = "cleanprod API",
    version: str = "1.0.0",
    issuer: str | None = None,
    public_prefixes: tuple[str, ...] = (),
) -> dict[str, Any]:
    """`parts`: (service name, its OpenAPI document). `own`: the gateway's own document (no filtering).
    Operations under `public_prefixes` are marked `security: []` (no token) against the document's default."""
    merge = _Merge(public_prefixes)
    all_parts = list(parts)
    if own is not None:
        all_parts.insert(0, ("gateway", own))
    included: list[str] = []
    for service, doc in all_parts:
        keep = None if allowed_prefixes is None or service == "gateway" else allowed_prefixes.get(service, ())
        merge.add(service, copy.deepcopy(doc), keep)
        if service != "gateway":
            included.append(service)

    merged = merge.merged
    _add_gateway_problems(merged)
    add_links(merged)
    _add_security(merged, issuer)
    merged["info"] = {"title": title, "version": version, "description": _description(included, missing, merge.notes)}
    if not merged["tags"]:
        del merged["tags"]
    return merged


class _Merge:
    """The merged document being built, and what the merge remembers between services."""

    def __init__(self, public_prefixes: tuple[str, ...]) -> None:
        self.merged: dict[str, Any] = {"openapi": "3.1.0", "info": {}, "paths": {}, "components": {}, "tags": []}
        self.public_prefixes = public_prefixes
        self.origin: dict[tuple[str, str], tuple[str, Any]] = {}  # (section, name) -> (service, definition)
        self.tag_names: set[str] = set()
        self.notes: list[str] = []

    def add(self, service: str, doc: dict[str, Any], keep: tuple[str, ...] | None) -> None:
        """`doc` (a copy: it is changed) of `service`, only its paths under `keep` (None: all)."""
        renames = self._renames(service, doc.get("components") or {})
        if renames:
            doc = _rewrite_refs(doc, renames)
        self._add_components(service, doc.get("components") or {}, renames)
        for path, item in (doc.get("paths") or {}).items():
            if keep is None or _under(path, keep):
                self._add_path(path, item)
        for tag in doc.get("tags") or []:
            if isinstance(tag, dict) and tag.get("name") not in self.tag_names:
                self.tag_names.add(tag["name"])
                self.merged["tags"].append(tag)

    def _renames(self, service: str, components: dict[str, Any]) -> dict[str, str]:
        """The `$ref`s of `service`'s definitions that another service defines differently -> prefixed names."""
        renames: dict[str, str] = {}
        # Until nothing changes: a definition that only *refers* to a renamed one differs too once its refs are
        # rewritten (two services' `BulkAssignmentBody` look alike, but their `BulkAssignmentItem`s do not).
        found = True
        while found:
            found = False
            for section, name, definition in _definitions(components):
                ref = f"{REF_PREFIX}{section}/{name}"
                existing = self.origin.get((section, name))
                if ref not in renames and existing is not None and existing[1] != _rewrite_refs(definition, renames):
                    renames[ref] = f"{REF_PREFIX}{section}/{_prefix(service)}{name}"
                    found = True
        return renames

    def _add_components(self, service: str, components: dict[str, Any], renames: dict[str, str]) -> None:
        for section, defs in components.items():
            if not isinstance(defs, dict):
                continue
            target = self.merged["components"].setdefault(section, {})
            for name, definition in defs.items():
                old_ref = f"{REF_PREFIX}{section}/{name}"
                new_name = renames[old_ref].rsplit("/", 1)[1] if old_ref in renames else name
                if new_name not in target:
                    target[new_name] = definition
                    self.origin.setdefault((section, new_name), (service, definition))

    def _add_path(self, path: str, item: Any) -> None:
        paths = self.merged["paths"]
        if path in paths:
            self.notes.append(f"path {path} is defined by more than one service; kept the first")
            return
        if isinstance(item, dict) and _under(path, self.public_prefixes):
            item = {method: ({**op, "security": []} if isinstance(op, dict) else op) for method, op in item.items()}
        paths[path] = item


def _definitions(components: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    for section, defs in components.items():
        if isinstance(defs, dict):
            for name, definition in defs.items():
                yield section, name, definition


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


def _add_security(merged: dict[str, Any], issuer: str | None) -> None:
    schemes = merged["components"].setdefault("securitySchemes", {})
    schemes.setdefault(
        "bearer",
        {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "Keycloak access token (realm cleanprod, audience cleanprod-api)",
        },
    )
    merged["security"] = [{"bearer": []}]
    if issuer:
        # Explicit endpoints rather than openIdConnect discovery: Swagger UI then needs no cross-origin fetch of
        # the discovery document, only the token exchange (allowed by the docs client's web origins).
        base = f"{issuer.rstrip('/')}/protocol/openid-connect"
        schemes.setdefault(
            "keycloak",
            {
                "type": "oauth2",
                "description": "Log in at Keycloak (authorization code + PKCE)",
                "flows": {
                    "authorizationCode": {
                        "authorizationUrl": f"{base}/auth",
                        "tokenUrl": f"{base}/token",
                        "scopes": {"openid": "OpenID Connect"},
                    }
                },
            },
        )
        merged["security"].append({"keycloak": ["openid"]})


def _description(included: list[str], missing: list[str] | None, notes: list[str]) -> str:
    description = (
        "The public API of the cleaner-production support programme, served through the gateway. "
        f"Included services: {', '.join(included) or 'none'}."
    )
    if missing:
        description += (
            f" Not included (unreachable when this document was built): {', '.join(missing)}; "
            "their endpoints still work through the gateway once the services are up."
        )
    if notes:
        description += " Notes: " + "; ".join(notes) + "."
    return description


class OpenAPICache:
    def __init__(
        self,
        *,
        services: dict[str, str],
        fetch: Fetch,
        build_own: Callable[[], dict[str, Any]],
        allowed_prefixes: dict[str, tuple[str, ...]],
        ttl: float,
        retry: float,
        issuer: str | None = None,
        public_prefixes: tuple[str, ...] = (),
    ) -> None:
        self.services = services  # name -> base URL
        self.fetch = fetch
        self.build_own = build_own
        self.allowed_prefixes = allowed_prefixes
        self.ttl = ttl
        self.retry = retry
        self.issuer = issuer
        self.public_prefixes = public_prefixes
        self._doc: dict[str, Any] | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()
        self.builds = 0

    def invalidate(self) -> None:
        self._expires = 0.0

    async def get(self) -> dict[str, Any]:
        if self._doc is not None and time.monotonic() < self._expires:
            return self._doc
        async with self._lock:
            if self._doc is not None and time.monotonic() < self._expires:
                return self._doc
            names = list(self.services)
            results = await asyncio.gather(
                *(self.fetch(self.services[n] + "/openapi.json") for n in names), return_exceptions=True
            )
            parts: list[tuple[str, dict[str, Any]]] = []
            missing: list[str] = []
            for name, result in zip(names, results, strict=True):
                if isinstance(result, BaseException) or not isinstance(result, dict):
                    log.warning("openapi of %s unavailable: %r", name, result)
                    missing.append(name)
                else:
                    parts.append((name, result))
            self._doc = merge_documents(
                parts,
                own=self.build_own(),
                allowed_prefixes=self.allowed_prefixes,
                missing=missing,
                issuer=self.issuer,
                public_prefixes=self.public_prefixes,
            )
            self._expires = time.monotonic() + (self.retry if missing else self.ttl)
            self.builds += 1
            return self._doc
