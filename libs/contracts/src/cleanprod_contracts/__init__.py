"""The typed contracts between the cleanprod services, written once and used by both sides.

- `cleanprod_contracts.v1.events`: the `data` of every outbox event, one pydantic model per event type
  (`EVENT_PAYLOADS`). A producer builds the model and emits `model.payload()`; a consumer reads `envelope.data`
  with `read_payload(event_type, data)` (or `Model.model_validate`), so both sides name the same fields.
- `cleanprod_contracts.v1.registry`: what other services read from the registry's API (facility, enterprise,
  sector, baseline periods, norm), and `cleanprod_contracts.registry_client.RegistryClient`, the one client that
  asks for them and returns these models.

Versioning — a module per major version:
- `v1` is the contract in force. Within a major version only additive changes are allowed: a new field gets a
  default (so payloads written before it, e.g. still waiting in an outbox or stored as a pending verdict, keep
  validating) and the consumers learn it in the same commit as the producer (one repository, one version of
  this package).
- Event payloads refuse unknown fields (`extra="forbid"`): a typo on either side is an error, not a silently
  missing value. Registry read models ignore the fields they do not name (the registry answers with much more
  than other services read; the read model is the part they depend on).
- Renaming or removing a field, or changing its type or meaning, is a new major version: a module `v2` next to
  `v1`, a v2 event published under a new event type (`<type>.v2`) while consumers move, and `/api/v2` for the
  registry's read models. The version is therefore known from the module (and the event type or URL), not
  from a field inside each payload: the payloads keep exactly the shape they had before the contracts were
  typed.

Contract tests (`services/*/tests/test_contracts.py`) build every event from its producer's real code path on
a real PostgreSQL and read it with its consumer's code, and validate the registry's real answers with the read
models; see docs/contracts.md.
"""
