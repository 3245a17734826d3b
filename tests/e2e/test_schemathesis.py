"""Schemathesis (pinned in requirements.txt) against the merged OpenAPI document, through the gateway, with real
Keycloak tokens — every check Schemathesis has, positive and negative data, all four phases (examples, coverage,
fuzzing, stateful with the links Schemathesis infers from the document and the `links` the gateway adds).

Three runs, each a `st run` process with its own configuration (written next to its report):

- `staff`: identities tried in order per operation (officer1, then anonymous, ent-hanoisteel, reviewer1,
  verifier1): every operation is exercised by the first identity it admits, so writes only an enterprise may make
  (submitting an application) are fuzzed too;
- `enterprise`: every operation as ent-hanoisteel, with ent-thanglong as its peer for
  `object_level_authorization` (one enterprise must never get the other's objects);
- `auditor`: every operation as auditor1 (reads everything, every write refused).

The pass condition is 0 failures and 0 errors, every operation of the document tested, no phase skipped. Reports
(JUnit XML, the JSON run report, the VCR cassette of every request, the console output) are kept under
`test-artifacts/schemathesis/<run>/` (gitignored). How to run it alone, the budget and what it found:
docs/api-testing.md.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from infra import keycloak_server

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "schemathesis"
SEED = 20261201
# Examples per operation and phase (the coverage phase adds its own deterministic boundary cases on top).
# Measured on 2 shared cores: see docs/api-testing.md. SCHEMATHESIS_MAX_EXAMPLES overrides it for a longer run.
MAX_EXAMPLES = {"staff": 15, "enterprise": 10, "auditor": 5}
# Scenarios of the stateful phase (chains of linked calls; cheap, ~0.5 s each).
STATEFUL_EXAMPLES = {"staff": 60, "enterprise": 30, "auditor": 10}
USERS = ["officer1", "ent-hanoisteel", "ent-thanglong", "reviewer1", "verifier1", "auditor1"]
RUNS: dict[str, dict[str, Any]] = {
    "staff": {"users": ["officer1", "ent-hanoisteel", "reviewer1", "verifier1"]},
    "enterprise": {
        "users": ["ent-hanoisteel", "ent-thanglong"],
        "user": "ent-hanoisteel",
        "peers": ["ent-hanoisteel", "ent-thanglong"],
    },
    "auditor": {"users": ["auditor1"], "user": "auditor1"},
}
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "412", "429", "5xx"]
# Where a schema-valid request can still get 422, because the rule is one a JSON schema cannot state (everything
# a schema can state is in the document: patterns, enums, formats, bounds, required headers). Only these operations
# accept 422 for positive data, each for the reason given; on every other operation a schema-valid request must
# not get a 422. Operations with a `cursor` (or `after`) parameter are added from the document: a cursor is valid
# only if the API issued it (signed), and Idempotency-Key with another body is 422 (IETF idempotency-key draft).
RULES_BEYOND_THE_SCHEMA: dict[str, str] = {
    # Found by running with an empty table (2026-12-01); each rule is checked by the service, with a 422 naming the
    # field. Creating POSTs (Idempotency-Key) and lists (cursor) are added below from the document.
    "GET /api/v1/programme/summary": "concluded_to ≥ concluded_from",
    "PATCH /api/v1/applications/{application_id}": "dates in the programme window, end ≥ start; eligible ≤ total",
    "POST /api/v1/applications/{application_id}/start": "started_on in the programme window",
    "POST /api/v1/applications/{application_id}/completion": "completed_on in the programme window, ≥ started_on",
    "PATCH /api/v1/calls/{call_id}": "closes_on ≥ opens_on; weights and scores have at most 3 (pass score 2) "
    "decimal places (documented as number or string)",
    "POST /api/v1/enterprises/{enterprise_id}/accounts": "Keycloak's username characters; a deliverable e-mail "
    "domain (not a reserved one such as .test)",
    "PUT /api/v1/facilities/{facility_id}/baselines/{baseline_id}": "one consumption entry per carrier; "
    "period_end ≥ period_start",
    "PATCH /api/v1/integrations/webhooks/{subscription_id}": "the URL's host must resolve to an allowed address",
    "PATCH /api/v1/facilities/{facility_id}": "sector_code must name a sector of GET /api/v1/sectors",
    "PATCH /api/v1/enterprises/{enterprise_id}": "a patterned text (phone) is trimmed before its pattern is "
    "checked: ' (4768' is '(4768', too short",
    # The audit search's export of each service (its search has a cursor, so it is added from the document).
    **{f"GET /api/v1/audit/{service}/export": "to ≥ from" for service in ("registry", "applications", "verification")},
    "GET /api/v1/verifications/{case_id}/preview": "the case's state: at least one measurement must be recorded "
    "before anything can be computed",
    # issue 15 (M&V plan, dates)
    "PUT /api/v1/verifications/{case_id}/reporting-start": "reporting_start in the programme window",
    "PUT /api/v1/verifications/{case_id}/mv-plan": "base temperatures within the range of the chosen unit "
    "(0–35 °C, 32–95 °F); a weather model needs a CDD or HDD base",
    "PATCH /api/v1/calls/{call_id}/funding-sources/{source_id}": "the amount cannot go below what the source has "
    "already committed (source_below_committed): data, not schema",
    # issue 10 (notifications)
    "PUT /api/v1/notification-preferences": "a statutory kind (receipt, outcome, what to supply) cannot be "
    "switched off: which kinds are statutory is data (GET /api/v1/notification-preferences), not schema",
}
# Uploads whose file type is detected from the bytes (not the declared name or Content-Type): random bytes that are
# no allowed type get 415, a rule a JSON schema cannot state about binary content. Only these accept 415 for
# positive data.
CONTENT_SNIFFED_UPLOADS: dict[str, str] = {
    "POST /api/v1/applications/{application_id}/documents": "PDF, PNG, JPEG, XLSX or DOCX by content",
    "POST /api/v1/handbooks/{handbook_id}/versions": "a PDF by content",
    "POST /api/v1/applications/{application_id}/messages/{message_id}/attachments": "the documents' types, by "
    "content (attachments are the application's documents)",
}
# Below the gateway's per-client bucket in the e2e stack (100/s): a 429 would replace a real answer.
RATE_LIMIT = "60/s"


def _wfc_document(issuer: str, users: list[str]) -> dict[str, Any]:
    """Web Fuzzing Commons auth document: each user logs in at Keycloak (password grant of the CLI client)."""
    password = quote(keycloak_server.DEMO_PASSWORD, safe="")
    return {
        "schemaVersion": "0.1",
        "auth": [
            {
                "name": user,
                "loginEndpointAuth": {
                    "externalEndpointURL": f"{issuer}/protocol/openid-connect/token",
                    "verb": "POST",
                    "contentType": "application/x-www-form-urlencoded",
                    "payloadRaw": f"grant_type=password&client_id=cleanprod-cli&username={user}&password={password}",
                    "token": {
                        "extractFrom": "body",
                        "extractSelector": "/access_token",
                        "sendIn": "header",
                        "sendName": "Authorization",
                        "sendTemplate": "Bearer {token}",
                    },
                },
            }
            for user in users
        ],
    }


def _toml(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # JSON strings, numbers, booleans and lists are valid TOML


def semantic_422_operations(document: dict[str, Any]) -> list[str]:
    """The operations whose schema-valid requests may get 422 (RULES_BEYOND_THE_SCHEMA, plus every operation with
    an issued cursor or an Idempotency-Key)."""
    names = set(RULES_BEYOND_THE_SCHEMA)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or method not in ("get", "put", "post", "patch", "delete"):
                continue
            parameters = {(p.get("in"), p.get("name")) for p in operation.get("parameters", [])}
            if parameters & {("query", "cursor"), ("query", "after"), ("header", "Idempotency-Key")}:
                names.add(f"{method.upper()} {path}")
    return sorted(names)


def _config(run: str, out: Path, auth_file: Path, max_examples: int, document: dict[str, Any]) -> str:
    spec = RUNS[run]
    auth = {"path": str(auth_file), "refresh_interval": 120}  # Keycloak access tokens live 300 s
    if "user" in spec:
        auth["user"] = spec["user"]
    if "peers" in spec:
        auth["peers"] = spec["peers"]
    lines = [
        f"seed = {SEED}",
        # One worker: with two threads, Hypothesis parsing lambda sources at once hit CPython 3.11.7's
        # "AST constructor recursion depth mismatch" (python/cpython#106905, fixed in 3.11.8): a runtime error of
        # the tool, not of the API.
        "workers = 1",
        f"rate-limit = {_toml(RATE_LIMIT)}",
        "request-timeout = 15",
        "[generation]",
        'mode = "all"',
        f"max-examples = {max_examples}",
        'database = "none"',
        "[checks]",
        "enabled = true",
        # Schema-valid requests may meet state the schema cannot know: 409 (Schemathesis' default) and, for the
        # same reason, 412 — a well-formed If-Match that is not the resource's current ETag.
        "[checks.positive_data_acceptance]",
        f"expected-statuses = {_toml(POSITIVE_STATUSES)}",
        # A write sent without its required If-Match is answered 428 Precondition Required (RFC 6585), the status
        # made for exactly that; Schemathesis' default list predates it.
        "[checks.missing_required_header]",
        'expected-statuses = ["400", "401", "403", "406", "415", "422", "428"]',
        "[phases]",
        "enabled = true",
        # The coverage phase (deterministic boundary and negative values for every parameter, hundreds of cases
        # per operation whatever max-examples says) does not depend on who calls: it runs once, in `staff`.
        f"coverage.enabled = {_toml(run == 'staff')}",
        f"stateful.generation.max-examples = {STATEFUL_EXAMPLES[run]}",
        "[cache]",
        "enabled = false",
        "[auth.wfc]",
        *(f"{key} = {_toml(value)}" for key, value in auth.items()),
        "[[operations]]",
        # An operation matches one block only: the uploads get their own (415 and 422) below.
        f"include-name = {_toml([n for n in semantic_422_operations(document) if n not in CONTENT_SNIFFED_UPLOADS])}",
        f"checks.positive_data_acceptance.expected-statuses = {_toml([*POSITIVE_STATUSES, '422'])}",
        "[[operations]]",
        f"include-name = {_toml(sorted(CONTENT_SNIFFED_UPLOADS))}",
        f"checks.positive_data_acceptance.expected-statuses = {_toml([*POSITIVE_STATUSES, '415', '422'])}",
        "[reports]",
        f"directory = {_toml(str(out))}",
        "[reports.junit]",
        f"path = {_toml(str(out / 'junit.xml'))}",
        "[reports.json]",
        f"path = {_toml(str(out / 'report.json'))}",
    ]
    if os.environ.get("SCHEMATHESIS_CASSETTE"):  # every request and response, ~20 MB per run: on request only
        lines += ["[reports.vcr]", f"path = {_toml(str(out / 'cassette.yaml'))}"]
    return "\n".join(lines) + "\n"


SERVER_TROUBLE = re.compile(r'"status": ?5\d\d|"level": ?"(?:ERROR|CRITICAL)"')


def _tracebacks(stack, since: dict[Path, int], limit: int = 8000) -> str:
    """What the processes logged about server errors after `since` (each log's size before the run): 5xx access
    lines, ERROR lines and tracebacks."""
    found = []
    for path in sorted(stack.log_dir.glob("*.log")):
        with path.open("rb") as log:
            log.seek(since.get(path, 0))
            text = log.read().decode("utf-8", "replace")
        found += [f"--- {path.name}: {line[:1500]}" for line in text.splitlines() if SERVER_TROUBLE.search(line)]
        found += [
            f"--- {path.name}: Traceback{block[:2500]}" for block in text.split("Traceback (most recent call last)")[1:]
        ]
    return ("SERVER LOGS\n" + "\n".join(found)[:limit] + "\n") if found else ""


def _st() -> list[str]:
    script = Path(sys.executable).with_name("st")
    return [str(script)] if script.exists() else [sys.executable, "-m", "schemathesis.cli"]


@pytest.mark.parametrize("run", list(RUNS))
def test_schemathesis_finds_no_failures(stack, gateway, run: str) -> None:
    document = gateway.get("/api/openapi.json").json()
    # A service that was down when the document was built would silently shrink what is tested.
    assert "Not included" not in document["info"]["description"], document["info"]["description"]
    operations = sum(
        1
        for item in document["paths"].values()
        for method in item
        if method in ("get", "put", "post", "patch", "delete")
    )
    assert operations > 60

    out = ARTIFACTS / run
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    auth_file = out / "auth.json"
    auth_file.write_text(json.dumps(_wfc_document(stack.issuer, RUNS[run]["users"]), indent=1), encoding="utf-8")
    max_examples = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES") or MAX_EXAMPLES[run])
    config = out / "schemathesis.toml"
    config.write_text(_config(run, out, auth_file, max_examples, document), encoding="utf-8")

    log_sizes = {path: path.stat().st_size for path in stack.log_dir.glob("*.log")}
    started = time.monotonic()
    # cwd = the artifact folder: nothing Schemathesis or Hypothesis writes can land in the repository.
    result = subprocess.run(
        [*_st(), "--config-file", str(config), "run", "--no-color", f"{stack.url('gateway')}/api/openapi.json"],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )
    (out / "output.txt").write_text(result.stdout + result.stderr, encoding="utf-8")
    elapsed = time.monotonic() - started

    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    # CI shows only this message: the failures themselves (with their curl reproductions) and any server-side
    # traceback logged meanwhile, not just the closing summary.
    failures = result.stdout.partition("=================================== FAILURES")[2]
    failures = failures.partition("=================================== WARNINGS")[0]
    summary = (
        f"schemathesis {run}: exit {result.returncode} after {elapsed:.0f} s; "
        f"{report['test_cases']['generated']} cases; output in {out / 'output.txt'}\n"
        + (f"FAILURES{failures[:8000]}\n" if failures else "")
        + _tracebacks(stack, since=log_sizes)
        + result.stdout[-3000:]
    )
    assert report["complete"], summary
    assert report["operations"]["tested"] == report["operations"]["total"] == operations, summary
    ran = {name for name, phase in report["phases"].items() if phase["status"] == "success"}
    assert ran == (
        {"examples", "coverage", "fuzzing", "stateful"} if run == "staff" else {"examples", "fuzzing", "stateful"}
    ), summary
    assert report["failures"] == [] and report["errors"] == [], summary
    assert result.returncode == 0, summary
    assert (out / "junit.xml").stat().st_size > 0
