"""Measurements per reporting period, recorded by the case's independent verifier. A correction appends a
revision; nothing is overwritten, and the computation uses each measurement's latest revision."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlmodel import and_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.audit import field_changes, snapshot
from cleanprod_kit.auth import Principal
from cleanprod_kit.changes import public_from
from cleanprod_kit.concurrency import get_for_update
from cleanprod_kit.errors import Conflict, NotFound, Unprocessable, field_error
from cleanprod_kit.models import utcnow
from cleanprod_kit.pagination import keyset_page

from ..access import ensure_acting_verifier
from ..cases.dates import reporting_period_errors
from ..cases.models import CaseStatus, VerificationCase
from ..cases.service import audit_case
from ..conclusions.inputs import baseline_periods, period
from ..db_types import touch
from ..mv import InputErrors, MVSettings, default_tables, prepare_inputs
from ..plans.service import model_of
from .models import Measurement, MeasurementRevision
from .schemas import MeasurementFields, MeasurementPublic, MeasurementRevise, RevisionPublic

_RENAMES = {"start": "period_start", "end": "period_end"}


def ensure_open_for_measurements(principal: Principal, case: VerificationCase) -> None:
    ensure_acting_verifier(principal, case)
    if case.status == CaseStatus.CONCLUDED:
        raise Conflict("The verification is concluded; its measurements can no longer change.", slug="case-concluded")
    if case.status != CaseStatus.MEASURING:
        raise Conflict(
            f"The case is '{case.status}'; measurements are recorded while it is 'measuring'.",
            code="wrong_case_status",
            params={"status": str(case.status), "expected": "measuring"},
        )


def check_against_baseline(case: VerificationCase, data: MeasurementFields, settings: MVSettings) -> None:
    """The M&V checks that concern one period: units a conversion exists for, implausible values, degree-days
    per day, production of the same kind as the baseline's, and a start after the baseline ends."""
    candidate = period(
        data.period_start,
        data.period_end,
        data.production.model_dump(),
        [c.model_dump() for c in data.consumption],
        data.cdd,
        data.hdd,
    )
    try:
        prepare_inputs(
            baseline_periods(case.baseline),
            [candidate],
            settings.limits,
            default_tables(),
            model_of(case).degree_days.to_celsius_days,
        )
    except InputErrors as exc:
        errors = []
        for item in exc.as_problem_errors():
            field = item["field"]
            if not field.startswith("reporting_periods[0]"):
                continue  # totals and baseline problems are judged at conclusion, over every period
            rest = field.removeprefix("reporting_periods[0]").lstrip(".")
            errors.append(field_error(_RENAMES.get(rest, rest) or "period_start", item["message"], item["code"]))
        if errors:
            raise Unprocessable(
                "The measurement cannot be used: " + "; ".join(e["message"] for e in errors[:3]),
                code="measurement_unusable",
                errors=errors,
            ) from None


def check_dates(case: VerificationCase, data: MeasurementFields) -> None:
    """A reporting period starts after completion (or the approved reporting start) and has ended already."""
    errors = reporting_period_errors(case, data.period_start, data.period_end)
    if errors:
        raise Unprocessable(code="dates_not_consistent", errors=errors)


async def refuse_overlap(
    session: AsyncSession, case_id: uuid.UUID, data: MeasurementFields, ignore: uuid.UUID | None = None
) -> None:
    """Periods of one case do not overlap; sharing one boundary day is allowed (as in the computation)."""
    statement = select(Measurement).where(
        Measurement.case_id == case_id,
        and_(Measurement.period_start < data.period_end, Measurement.period_end > data.period_start),
    )
    statement = statement.where(Measurement.withdrawn.is_(False))  # type: ignore[attr-defined]
    if ignore is not None:
        statement = statement.where(Measurement.id != ignore)
    clash = (await session.exec(statement.order_by(Measurement.period_start))).first()  # type: ignore[arg-type]
    if clash is not None:
        params = {
            "period": f"{data.period_start} – {data.period_end}",
            "measurement_id": str(clash.id),
            "other": f"{clash.period_start} – {clash.period_end}",
        }
        raise Unprocessable(
            code="measurement_overlap",
            params=params,
            errors=[field_error("period_start", f"overlaps measurement {clash.id}", "overlap", **params)],
        )


# What a correction can change (the rest of a revision row says who recorded it and why).
REVISED_FIELDS = (
    "period_start",
    "period_end",
    "production_quantity",
    "production_unit",
    "consumption",
    "cdd",
    "hdd",
    "estimated",
    "evidence",
)


def _revision(
    measurement_id: uuid.UUID, number: int, data: MeasurementFields, principal: Principal, reason: str | None
) -> MeasurementRevision:
    return MeasurementRevision(
        measurement_id=measurement_id,
        revision=number,
        period_start=data.period_start,
        period_end=data.period_end,
        production_quantity=data.production.quantity,
        production_unit=data.production.unit,
        consumption=[c.model_dump() for c in data.consumption],
        cdd=data.cdd,
        hdd=data.hdd,
        estimated=data.estimated,
        evidence=data.evidence.model_dump(exclude_none=True),
        reason=reason,
        recorded_by_subject=principal.subject,
        recorded_by_name=principal.display_name,
    )


async def record(
    session: AsyncSession, principal: Principal, case: VerificationCase, data: MeasurementFields, settings: MVSettings
) -> tuple[Measurement, list[MeasurementRevision]]:
    """`case` is row-locked: concurrent inserts of overlapping periods queue on it."""
    ensure_open_for_measurements(principal, case)
    check_against_baseline(case, data, settings)
    check_dates(case, data)
    await refuse_overlap(session, case.id, data)
    measurement = Measurement(
        case_id=case.id,
        period_start=data.period_start,
        period_end=data.period_end,
        revision=1,
        created_by_subject=principal.subject,
    )
    session.add(measurement)
    await session.flush()
    revision = _revision(measurement.id, 1, data, principal, None)
    session.add(revision)
    touch(case)
    audit_case(
        session,
        principal,
        case,
        "record_measurement",
        details={
            "measurement_id": str(measurement.id),
            "revision": 1,
            "period": [data.period_start.isoformat(), data.period_end.isoformat()],
            "estimated": data.estimated,
        },
    )
    return measurement, [revision]


async def revise(
    session: AsyncSession,
    principal: Principal,
    case: VerificationCase,
    measurement: Measurement,
    data: MeasurementRevise,
    settings: MVSettings,
) -> tuple[Measurement, list[MeasurementRevision]]:
    """Append a revision; `case` and `measurement` are row-locked and the If-Match checked."""
    ensure_open_for_measurements(principal, case)
    ensure_not_withdrawn(measurement)
    check_against_baseline(case, data, settings)
    check_dates(case, data)
    await refuse_overlap(session, case.id, data, ignore=measurement.id)
    number = measurement.revision + 1
    previous = (
        await session.exec(
            select(MeasurementRevision).where(
                MeasurementRevision.measurement_id == measurement.id,
                MeasurementRevision.revision == measurement.revision,
            )
        )
    ).one()
    revised = _revision(measurement.id, number, data, principal, data.reason)
    session.add(revised)
    before = (measurement.period_start, measurement.period_end)
    measurement.revision = number
    measurement.period_start, measurement.period_end = data.period_start, data.period_end
    measurement.updated_at = utcnow()
    touch(case)
    audit_case(
        session,
        principal,
        case,
        "revise_measurement",
        reason=data.reason,
        details={
            "measurement_id": str(measurement.id),
            "revision": number,
            "period_before": [before[0].isoformat(), before[1].isoformat()],
            "period": [data.period_start.isoformat(), data.period_end.isoformat()],
        },
        changes=field_changes(snapshot(previous, REVISED_FIELDS), snapshot(revised, REVISED_FIELDS)),
    )
    await session.flush()
    return measurement, await revisions_of(session, [measurement.id])


def ensure_not_withdrawn(measurement: Measurement) -> None:
    if measurement.withdrawn:
        raise Conflict(
            code="measurement_withdrawn",
            params={"measurement_id": str(measurement.id), "revision": measurement.revision},
        )


async def withdraw(
    session: AsyncSession, principal: Principal, case: VerificationCase, measurement: Measurement, reason: str
) -> tuple[Measurement, list[MeasurementRevision]]:
    """Withdraw a period recorded by mistake: a revision that keeps the figures and says ``withdrawn``, with the
    reason. Append-only like every correction; the computation leaves the measurement out from then on."""
    ensure_open_for_measurements(principal, case)
    ensure_not_withdrawn(measurement)
    previous = (
        await session.exec(
            select(MeasurementRevision).where(
                MeasurementRevision.measurement_id == measurement.id,
                MeasurementRevision.revision == measurement.revision,
            )
        )
    ).one()
    number = measurement.revision + 1
    copy = {name: getattr(previous, name) for name in REVISED_FIELDS}
    session.add(
        MeasurementRevision(
            measurement_id=measurement.id,
            revision=number,
            **copy,
            withdrawn=True,
            reason=reason,
            recorded_by_subject=principal.subject,
            recorded_by_name=principal.display_name,
        )
    )
    measurement.revision = number
    measurement.withdrawn = True
    measurement.updated_at = utcnow()
    touch(case)
    audit_case(
        session,
        principal,
        case,
        "withdraw_measurement",
        reason=reason,
        details={
            "measurement_id": str(measurement.id),
            "revision": number,
            "period": [measurement.period_start.isoformat(), measurement.period_end.isoformat()],
        },
        changes=[{"field": "withdrawn", "old": False, "new": True}],
    )
    await session.flush()
    return measurement, await revisions_of(session, [measurement.id])


async def measurement_of_case(
    session: AsyncSession, case_id: uuid.UUID, measurement_id: uuid.UUID, *, for_update: bool = False
) -> Measurement:
    if for_update:
        measurement = await get_for_update(session, Measurement, measurement_id, what="Measurement")
    else:
        measurement = await session.get(Measurement, measurement_id)
    if measurement is None or measurement.case_id != case_id:
        raise NotFound(
            code="measurement_not_found", params={"measurement_id": str(measurement_id), "case_id": str(case_id)}
        )
    return measurement


async def revisions_of(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[MeasurementRevision]:
    if not ids:
        return []
    wanted = MeasurementRevision.measurement_id.in_(ids)  # type: ignore[attr-defined]
    rows = await session.exec(
        select(MeasurementRevision)
        .where(wanted)
        .order_by(MeasurementRevision.measurement_id, MeasurementRevision.revision)
    )
    return list(rows.all())


async def latest_inputs(session: AsyncSession, case_id: uuid.UUID) -> list[tuple[Measurement, MeasurementRevision]]:
    """Every measurement of the case with its latest revision, in period order."""
    rows = await session.exec(
        select(Measurement, MeasurementRevision)
        .join(
            MeasurementRevision,
            and_(
                MeasurementRevision.measurement_id == Measurement.id,
                MeasurementRevision.revision == Measurement.revision,
            ),
        )
        .where(Measurement.case_id == case_id, Measurement.withdrawn.is_(False))  # type: ignore[attr-defined]
        .order_by(Measurement.period_start, Measurement.id)  # type: ignore[arg-type]
    )
    return [(m, r) for m, r in rows.all()]


def revision_public(rev: MeasurementRevision) -> RevisionPublic:
    return public_from(
        RevisionPublic,
        rev,
        production={"quantity": rev.production_quantity, "unit": rev.production_unit},
        recorded_by=rev.recorded_by_name or rev.recorded_by_subject,
    )


def to_public(measurement: Measurement, revisions: Sequence[MeasurementRevision]) -> MeasurementPublic:
    own = sorted((r for r in revisions if r.measurement_id == measurement.id), key=lambda r: r.revision)
    current = next(r for r in own if r.revision == measurement.revision)
    return MeasurementPublic(
        id=measurement.id,
        case_id=measurement.case_id,
        revision=measurement.revision,
        withdrawn=measurement.withdrawn,
        period_start=measurement.period_start,
        period_end=measurement.period_end,
        current=revision_public(current),
        revisions=[revision_public(r) for r in own],
        created_at=measurement.created_at,
        updated_at=measurement.updated_at,
    )


async def page(
    session: AsyncSession, case_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[MeasurementPublic], str | None]:
    statement = select(Measurement).where(Measurement.case_id == case_id)
    items, next_cursor = await keyset_page(
        session,
        statement,
        order_by=[Measurement.period_start, Measurement.id],  # type: ignore[list-item]
        key=lambda m: [m.period_start, m.id],
        limit=limit,
        cursor=cursor,
    )
    revisions = await revisions_of(session, [m.id for m in items])
    return [to_public(m, revisions) for m in items], next_cursor
