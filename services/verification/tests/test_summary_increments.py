"""A kept programme summary stepped over new conclusions (programme/increments.py) is what a full pass gives:
over random sequences of conclusions — several enterprises, sectors, wards and periods, several conclusions of one
enterprise in one step, NULL keys, local-day edges — under every kind of filter; any other change forces the pass."""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from cleanprod_verification.programme import increments
from cleanprod_verification.programme import service as programme

CASE = text(
    "INSERT INTO verification_cases (id, application_id, status, facility_id, enterprise_id, enterprise_tax_code, "
    "sector_code, district, ward, products, claimed_per_carrier, baseline, version, created_at, updated_at) VALUES "
    "(CAST(:id AS uuid), gen_random_uuid(), 'measuring', CAST(:facility AS uuid), CAST(:enterprise AS uuid), :tax, "
    ":sector, :district, :ward, '[]', '{}', '[]', 1, now(), now())"
)
# one statement for several conclusions (its rows share one stamp)
CONCLUSIONS = text(
    "INSERT INTO conclusions (id, case_id, concluded_at, concluded_by_subject, verdict, method, requires_review, "
    "claimed_pct, savings_toe, savings_gj, savings_tco2, adjusted_baseline_toe, reporting_energy_toe, "
    "measurements_used, norm, result) SELECT gen_random_uuid(), r.case_id, r.at, 'v', r.verdict, 'regression', false, "
    "8, r.toe, r.gj, r.tco2, r.adjusted, 1, '[]', '{}', '{}' FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS "
    "r(case_id uuid, at timestamptz, verdict text, toe float8, gj float8, tco2 float8, adjusted float8)"
)
FULL_PASS = programme.summary  # the real one, also while a test spies on Summaries' full passes
GENERATION = text("SELECT generation, full_pass_from FROM programme_summary_generation WHERE id = 1")


class Programme:
    """Random cases and conclusions of this test's own sectors, districts and enterprises, written by plain SQL
    (the triggers stamp them as they stamp the service's)."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        tag = uuid.uuid4().hex[:6]
        self.sectors = [f"s{tag}a", f"s{tag}b", None]
        self.places = [
            (f"Quận {tag}", f"Phường Một {tag}"),
            (f"Quận {tag}", None),
            (f"Huyện {tag}", "Xã Đông"),
            (None, None),
        ]
        # enterprise keys: a tax code, else the enterprise id, else the facility id (the summary's coalesce)
        self.enterprises = [(None, f"9{tag}{n}"[:10]) for n in range(3)] + [(str(uuid.uuid4()), None), (None, None)]
        self.cases: list[str] = []

    def conclusion(self, case: str) -> dict[str, Any]:
        r = self.random
        # concluded over two years, often right at a Hanoi midnight (17:00 UTC) or a quarter's edge
        day = dt.date(2025, 1, 1) + dt.timedelta(days=r.choice([0, 89, 90, 180, 364, 365, r.randrange(730)]))
        minute = r.choice([16 * 60 + 59, 17 * 60, r.randrange(24 * 60)])
        at = dt.datetime.combine(day, dt.time(), dt.UTC) + dt.timedelta(minutes=minute)
        return {
            "case_id": case,
            "at": at.isoformat(),
            "verdict": r.choice(["verified", "verified", "not_achieved"]),
            "toe": r.uniform(-5, 300),
            "gj": r.uniform(0, 12_000),
            "tco2": r.uniform(0, 900),
            "adjusted": r.uniform(100, 4_000),
        }

    async def new_case(self, session: Any, enterprise: tuple[str | None, str | None] | None = None) -> str:
        r = self.random
        enterprise_id, tax = enterprise or r.choice(self.enterprises)
        district, ward = r.choice(self.places)
        case = str(uuid.uuid4())
        await session.exec(
            CASE.bindparams(
                id=case,
                facility=str(uuid.uuid4()),
                enterprise=enterprise_id,
                tax=tax,
                sector=r.choice(self.sectors),
                district=district,
                ward=ward,
            )
        )
        self.cases.append(case)
        return case

    async def conclude_some(self, session: Any) -> int:
        """One transaction: 1–4 new conclusions, sometimes several of one enterprise, sometimes in two statements."""
        r = self.random
        one = r.choice(self.enterprises)
        written = 0
        for _ in range(r.randint(1, 2)):  # statements in the transaction
            rows = []
            for _ in range(r.randint(1, 2)):
                case = await self.new_case(session, one if r.random() < 0.5 else None)
                rows.append(self.conclusion(case))
            await session.exec(CONCLUSIONS.bindparams(rows=json.dumps(rows)))
            written += len(rows)
        await session.commit()
        return written


BASE = {"target": 6.0, "sector": None, "concluded_from": None, "concluded_to": None, "period_kind": "quarter"}
PARAMETERS: list[dict[str, Any]] = [
    {},
    {"period_kind": "year"},
    {"concluded_from": dt.date(2025, 4, 1)},
    {"concluded_from": dt.date(2025, 3, 31), "concluded_to": dt.date(2026, 1, 1), "period_kind": "year"},
    {"concluded_to": dt.date(2025, 12, 31)},
]


def parameter_sets(world: Programme) -> list[dict[str, Any]]:
    sets = [BASE | p for p in PARAMETERS]
    sets += [
        BASE | {"sector": world.sectors[0]},
        BASE | {"sector": world.sectors[1], "concluded_to": dt.date(2026, 2, 1)},
    ]
    return sets


def assert_same(stepped: Any, full: Any, where: str = "") -> None:
    """Equal, with float sums to 1e-9 relative (a sum in another order)."""
    if isinstance(full, dict):
        assert stepped.keys() == full.keys(), where
        for k in full:
            assert_same(stepped[k], full[k], f"{where}.{k}")
    elif isinstance(full, list):
        assert len(stepped) == len(full), (where, stepped, full)
        for n, (a, b) in enumerate(zip(stepped, full, strict=True)):
            assert_same(a, b, f"{where}[{n}]")
    elif isinstance(full, float):
        assert stepped == pytest.approx(full, rel=1e-9, abs=1e-9), where
    else:
        assert stepped == full, where


@pytest.fixture
def full_passes(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The parameters of every full pass Summaries makes."""
    passes: list[dict[str, Any]] = []
    real = programme.summary

    async def counting(session: Any, **parameters: Any) -> Any:
        passes.append(parameters)
        return await real(session, **parameters)

    monkeypatch.setattr(programme, "summary", counting)
    return passes


async def check(database: Any, session: Any, kept: programme.Summaries, sets: list[dict[str, Any]]) -> None:
    """Each parameter set read through `kept` is what a full pass over every conclusion there is now gives."""
    for parameters in sets:
        stepped = await kept.get(database, **parameters)
        full = await FULL_PASS(session, **parameters)
        assert_same(stepped.model_dump(), full.model_dump(), str(parameters))


@pytest.mark.parametrize("seed", [7, 16, 2026])
async def test_a_summary_stepped_over_new_conclusions_is_the_full_pass(
    client: httpx.AsyncClient, app: Any, full_passes: list[dict[str, Any]], seed: int
) -> None:
    world = Programme(seed)
    kept = programme.Summaries()
    async with app.state.db.session() as session:
        sets = parameter_sets(world)
        await check(app.state.db, session, kept, sets)  # the first read of each parameter set is a full pass
        assert len(full_passes) == len(sets)
        full_passes.clear()
        for _ in range(12):
            assert await world.conclude_some(session) >= 1
            await check(app.state.db, session, kept, sets)
        assert full_passes == []  # every read after conclusions stepped over them

        # A case's grouping column changes: the next read of every parameter set is a full pass, and right.
        changed = world.random.choice(world.cases)
        await session.exec(
            text("UPDATE verification_cases SET ward = 'Phường Đổi' WHERE id = CAST(:c AS uuid)").bindparams(c=changed)
        )
        await session.commit()
        await check(app.state.db, session, kept, sets)
        assert len(full_passes) == len(sets)
        full_passes.clear()
        await world.conclude_some(session)  # and then steps again
        await check(app.state.db, session, kept, sets)
        assert full_passes == []


async def test_each_transaction_stamps_its_conclusions_with_the_generation_it_made(
    client: httpx.AsyncClient, app: Any
) -> None:
    world = Programme(1)
    async with app.state.db.session() as session:
        cases = [await world.new_case(session) for _ in range(3)]
        rows = [world.conclusion(c) for c in cases[:2]]
        await session.exec(CONCLUSIONS.bindparams(rows=json.dumps(rows)))
        await session.commit()
        first, full_from = (await session.exec(GENERATION)).one()
        await session.exec(CONCLUSIONS.bindparams(rows=json.dumps([world.conclusion(cases[2])])))
        await session.commit()
        second, still = (await session.exec(GENERATION)).one()
        stamps = (
            await session.exec(
                text(
                    "SELECT case_id::text, summary_generation FROM conclusions WHERE case_id::text = ANY(:cases)"
                ).bindparams(cases=cases)
            )
        ).all()
        assert dict(stamps) == {cases[0]: first, cases[1]: first, cases[2]: first + 1}  # one statement, one stamp
        assert second == first + 1 and still == full_from  # inserting conclusions is a step, not a full change
        await session.exec(
            text("UPDATE verification_cases SET district = 'Quận Mới' WHERE id = CAST(:c AS uuid)").bindparams(
                c=cases[0]
            )
        )
        await session.commit()
        assert tuple((await session.exec(GENERATION)).one()) == (second + 1, second + 1)


async def test_a_summary_kept_while_a_conclusion_commits_counts_it_once(
    client: httpx.AsyncClient, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A conclusion committed between a read's generation and its full pass is left to the next step, not counted
    twice: the pass counts exactly the conclusions stamped up to the generation it read."""
    world = Programme(2)
    kept = programme.Summaries()

    async def meanwhile(session: Any, **parameters: Any) -> Any:
        async with app.state.db.session() as other:
            await world.conclude_some(other)
        return await FULL_PASS(session, **parameters)

    async with app.state.db.session() as session:
        monkeypatch.setattr(programme, "summary", meanwhile)
        await kept.get(app.state.db, **BASE)
        monkeypatch.setattr(programme, "summary", FULL_PASS)
        await check(app.state.db, session, kept, [BASE])  # stepped over the one committed meanwhile


async def test_more_new_conclusions_than_a_step_takes_make_a_full_pass(
    client: httpx.AsyncClient, app: Any, full_passes: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    world = Programme(3)
    kept = programme.Summaries()
    monkeypatch.setattr(increments, "STEP_LIMIT", 2)
    async with app.state.db.session() as session:
        await check(app.state.db, session, kept, [BASE])
        cases = [await world.new_case(session) for _ in range(3)]
        await session.exec(CONCLUSIONS.bindparams(rows=json.dumps([world.conclusion(c) for c in cases])))
        await session.commit()
        await check(app.state.db, session, kept, [BASE])
        assert len(full_passes) == 2


async def test_a_read_of_an_older_generation_gets_the_newer_summary_kept(client: httpx.AsyncClient, app: Any) -> None:
    """A read that took the generation before the last conclusion, and asks after another read kept the summary
    with it, gets that one: newer, never older."""
    world = Programme(4)
    kept = programme.Summaries()
    async with app.state.db.session() as session:
        old = tuple((await session.exec(GENERATION)).one())
        before = await kept.at(app.state.db, *old, **BASE)
        await world.conclude_some(session)
        now = await kept.get(app.state.db, **BASE)
        assert now.total.cases > before.total.cases
        assert await kept.at(app.state.db, *old, **BASE) is now
