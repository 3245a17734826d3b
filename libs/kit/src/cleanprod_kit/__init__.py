"""cleanprod_kit — the one shared library every cleanprod service uses.

One module per cross-cutting concern: settings, db, errors (problem+json), auth (token verification and
role checks), concurrency (ETag / If-Match), idempotency, audit, outbox (events), pagination, request ids,
logging, health, service HTTP client and the app factory that wires them together.
"""
