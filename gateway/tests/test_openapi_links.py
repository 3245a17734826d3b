"""OpenAPI links in the merged document: from a created resource (201, body `id`) to the operations on it, and from
reading a resource to its writes that need If-Match (with the ETag just read)."""

from __future__ import annotations

from typing import Any

from cleanprod_gateway.openapi import merge_documents


def _op(op_id: str, responses: dict[str, Any], if_match: bool = False) -> dict[str, Any]:
    parameters = (
        [{"name": "If-Match", "in": "header", "required": True, "schema": {"type": "string"}}] if if_match else []
    )
    return {"operationId": op_id, "parameters": parameters, "responses": responses}


def _json(ref: str) -> dict[str, Any]:
    return {"description": "ok", "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


SERVICE = {
    "openapi": "3.1.0",
    "paths": {
        "/api/v1/things": {
            "post": _op("create_thing", {"201": _json("Thing")}),
            "get": _op("list_things", {"200": _json("Page")}),
        },
        "/api/v1/things/{thing_id}": {
            "get": _op("read_thing", {"200": _json("Thing")}),
            "patch": _op("change_thing", {"200": _json("Thing")}, if_match=True),
        },
        "/api/v1/things/{thing_id}/submit": {"post": _op("submit_thing", {"200": _json("Thing")}, if_match=True)},
        "/api/v1/things/{thing_id}/parts/{part_id}": {"get": _op("read_part", {"200": _json("Thing")})},
    },
    "components": {
        "schemas": {
            "Thing": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}},
            "Page": {
                "type": "object",
                "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Thing"}}},
            },
        }
    },
}


def test_links_from_a_created_resource_and_from_reading_it() -> None:
    doc = merge_documents([("things", SERVICE)])
    created = doc["paths"]["/api/v1/things"]["post"]["responses"]["201"]["links"]
    assert created["get_thing_id"] == {
        "operationId": "read_thing",
        "parameters": {"path.thing_id": "$response.body#/id"},
    }
    assert created["patch_thing_id"]["parameters"] == {
        "path.thing_id": "$response.body#/id",
        "header.If-Match": "$response.header.ETag",
    }
    assert created["post_thing_id_submit"]["operationId"] == "submit_thing"
    # A deeper resource needs an id the creation did not return: no link to it.
    assert not any(link["operationId"] == "read_part" for link in created.values())

    read = doc["paths"]["/api/v1/things/{thing_id}"]["get"]["responses"]["200"]["links"]
    assert read == {
        "patch": {
            "operationId": "change_thing",
            "parameters": {"path.thing_id": "$request.path.thing_id", "header.If-Match": "$response.header.ETag"},
        },
        "post_submit": {
            "operationId": "submit_thing",
            "parameters": {"path.thing_id": "$request.path.thing_id", "header.If-Match": "$response.header.ETag"},
        },
    }
    # Every link names an operation of the document.
    operation_ids = {op["operationId"] for item in doc["paths"].values() for op in item.values()}
    for item in doc["paths"].values():
        for op in item.values():
            for response in op["responses"].values():
                assert {link["operationId"] for link in response.get("links", {}).values()} <= operation_ids


def test_a_definition_referring_to_a_renamed_one_is_renamed_too() -> None:
    # Schemathesis found POST /api/v1/verifications/bulk-assignments documented with the applications' item.
    def doc(path: str, item_field: str) -> dict[str, Any]:
        return {
            "openapi": "3.1.0",
            "paths": {path: {"post": _op(f"op{path}", {"201": _json("Bulk")})}},
            "components": {
                "schemas": {
                    "Bulk": {
                        "type": "object",
                        "properties": {
                            "assignments": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}
                        },
                    },
                    "Item": {"type": "object", "properties": {item_field: {"type": "string"}}},
                }
            },
        }

    merged = merge_documents(
        [("applications", doc("/a", "reviewer_subject")), ("verification", doc("/v", "verifier_subject"))]
    )
    schemas = merged["components"]["schemas"]
    ref = merged["paths"]["/v"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/Verification_Bulk"
    assert schemas["Verification_Bulk"]["properties"]["assignments"]["items"]["$ref"].endswith("/Verification_Item")
    assert "verifier_subject" in schemas["Verification_Item"]["properties"]
    assert schemas["Bulk"]["properties"]["assignments"]["items"]["$ref"] == "#/components/schemas/Item"
