"""The merged OpenAPI document of the real services keeps their problem+json responses: one shared `Problem`
schema, no FastAPI `HTTPValidationError` left, and the gateway's own problems (429/502/504) on every operation."""

from __future__ import annotations

import json

from cleanprod_applications.config import ApplicationsSettings
from cleanprod_applications.main import create_app as applications_app
from cleanprod_gateway.openapi import merge_documents
from cleanprod_gateway.routes import RouteTable
from cleanprod_kit.openapi import decorate
from cleanprod_kit.testing.hostile import openapi_problems
from cleanprod_registry.config import RegistrySettings
from cleanprod_registry.main import create_app as registry_app
from cleanprod_verification.config import VerificationSettings
from cleanprod_verification.main import create_app as verification_app


def _merged() -> dict:
    parts = [
        ("registry", registry_app(RegistrySettings(log_json=False)).openapi()),
        ("applications", applications_app(ApplicationsSettings(log_json=False)).openapi()),
        ("verification", verification_app(VerificationSettings(log_json=False)).openapi()),
    ]
    routes = RouteTable()
    own = decorate({"openapi": "3.1.0", "info": {}, "paths": {}}, [])
    return merge_documents(
        parts, own=own, allowed_prefixes={name: routes.prefixes_for(name) for name in routes.services()}
    )


def test_the_merged_document_describes_problem_responses() -> None:
    document = _merged()
    assert len(document["paths"]) > 30
    assert openapi_problems(document) == []
    assert "HTTPValidationError" not in json.dumps(document)
    schemas = document["components"]["schemas"]
    assert not [name for name in schemas if name.endswith("_Problem") or name.endswith("_FieldError")]
    for item in document["paths"].values():
        for operation in item.values():
            assert {"429", "502", "504"} <= set(operation["responses"])
            assert operation["responses"]["422"]["content"]["application/problem+json"]["schema"] == {
                "$ref": "#/components/schemas/Problem"
            }
