"""Computing a case's savings and concluding it.

The computation uses the frozen baseline, the latest revision of every measurement, the frozen claim and the
sector norm in force at the end of the reporting period (registry lookup by sector, the facility's first
product and its capacity; "no norm" is a recorded result, not an error). The conclusion stores the whole
result, is audited, and announces itself to the applications service with ``verification.concluded``:

    {application_id, verification_id, verdict: "verified" | "not_achieved", achieved_ratio,
     verified_savings_pct, claimed_savings_pct}
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_contracts.v1 import events
from cleanprod_kit.audit import record_audit
from cleanprod_kit.auth import Principal
from cleanprod_kit.db import release
from cleanprod_kit.errors import Conflict, Unprocessable, field_error
from cleanprod_kit.outbox import emit

from ..access import ensure_acting_verifier
from ..adjustments.models import BaselineAdjustment
from ..adjustments.service import approved_for_computation
from ..adjustments.service import of_case as adjustments_of_case
from ..cases.dates import baseline_errors, reporting_period_errors
from ..cases.models import CaseStatus, VerificationCase
from ..cases.service import ENTITY
from ..db_types import touch
from ..measurements.service import latest_inputs
from ..mv import (
    Claim,
    InputError,
    InputErrors,
    MVSettings,
    SavingsCase,
    SavingsHeadline,
    SavingsResult,
    SectorNorm,
    compute_savings,
    compute_savings_batch,
    convert_sec,
    default_tables,
    to_canonical_production,
)
from ..plans.service import model_of
from ..registry import NormLookup, RegistryClient
from .inputs import ReportingInput, baseline_periods, map_problem_errors, revision_period
from .models import Conclusion
from .schemas import ConcludeBody, ResultPublic, SavingsFigures

CONCLUDED_EVENT = "verification.concluded"


@dataclass(frozen=True)
class Computation:
    result: SavingsResult
    record: dict[str, Any]  # result.to_dict(), periods annotated with their sources
    reporting: list[ReportingInput]
    norm: dict[str, Any]


def _comparable_norm(lookup: NormLookup, production_unit: Any) -> tuple[SectorNorm | None, dict[str, Any]]:
    record = lookup.to_dict()
    if not lookup.found:
        return None, record
    assert lookup.value is not None and lookup.unit is not None
    try:
        canonical = to_canonical_production(1.0, production_unit)[1]
        convert_sec(1.0, f"TOE/{canonical}", lookup.unit)
    except InputError as exc:
        record.update(status="not_comparable", reason=exc.message)
        return None, record
    return SectorNorm(lookup.value, lookup.unit, lookup.label), record


def _annotate(record: dict[str, Any], case: VerificationCase, reporting: list[ReportingInput]) -> None:
    """Name the source of every period in the result: the registry baseline row, or measurement + revision."""
    baseline = {(str(p.get("period_start")), str(p.get("period_end"))): p for p in case.baseline}
    measured = {(r.revision.period_start.isoformat(), r.revision.period_end.isoformat()): r for r in reporting}
    for item in record.get("inputs", {}).get("periods", []):
        key = (item.get("start"), item.get("end"))
        if item.get("role") == "baseline" and key in baseline:
            item["source"] = {
                "registry_baseline_id": baseline[key].get("registry_id"),
                "estimated": baseline[key].get("estimated", False),
            }
        elif item.get("role") == "reporting" and key in measured:
            item["source"] = measured[key].used()


@dataclass(frozen=True)
class NormQuery:
    """The registry's norm lookup for a case: its sector, the facility's first product and capacity, on the last
    day reported. Fetched before the conclusion's transaction and compared again under the lock."""

    sector: str | None
    product: str | None
    on: dt.date
    capacity: float | None


async def reporting_inputs(session: AsyncSession, case: VerificationCase) -> list[ReportingInput]:
    """The latest revision of every measurement (422 when the claim or the measurements are missing)."""
    if case.claimed_overall_pct is None:
        raise Unprocessable(
            "The case holds no claimed overall saving (the approval event did not carry one); "
            "the claim cannot be verified.",
            code="claim_missing",
            errors=[field_error("claim.overall_percent", None, "claim_missing")],
        )
    rows = await latest_inputs(session, case.id)
    if not rows:
        raise Unprocessable(code="no_measurements", errors=[field_error("measurements", None, "no_measurements")])
    return [ReportingInput(m, r) for m, r in rows]


def norm_query(case: VerificationCase, reporting: list[ReportingInput]) -> NormQuery:
    return NormQuery(
        sector=case.sector_code,
        product=case.products[0] if case.products else None,
        on=max(r.revision.period_end for r in reporting),
        capacity=case.capacity_quantity,
    )


async def fetch_norm(registry: RegistryClient, query: NormQuery) -> NormLookup:
    """Ask the registry (HTTP: call it with no transaction open)."""
    return await registry.norm(sector=query.sector, product=query.product, on=query.on, capacity=query.capacity)


async def norm_before_lock(
    session: AsyncSession, case: VerificationCase, registry: RegistryClient
) -> tuple[NormQuery, NormLookup]:
    """For a conclusion: read the inputs, end the read transaction, then ask the registry — so no transaction (and
    no row lock) is held while it answers. The caller locks the case next and compares `NormQuery` again."""
    query = norm_query(case, await reporting_inputs(session, case))
    await release(session)
    return query, await fetch_norm(registry, query)


def evaluate(
    case: VerificationCase,
    reporting: list[ReportingInput],
    lookup: NormLookup,
    settings: MVSettings,
    adjustments: list[BaselineAdjustment] | None = None,
) -> Computation:
    """The savings computation on these inputs and this norm (no I/O)."""
    norm, norm_record = _comparable_norm(lookup, reporting[0].revision.production_unit)
    # Claims on non-energy resources (water) are part of the application but not of energy savings.
    energy = default_tables().energy
    per_carrier = {c: v for c, v in case.claimed_per_carrier.items() if c in energy}
    not_energy = sorted(set(case.claimed_per_carrier) - set(per_carrier))
    assert case.claimed_overall_pct is not None  # reporting_inputs refused the case otherwise
    try:
        result = compute_savings(
            baseline_periods(case.baseline),
            [revision_period(r.revision) for r in reporting],
            Claim(case.claimed_overall_pct, per_carrier),
            settings,
            norm=norm,
            model=model_of(case),
            adjustments=approved_for_computation(adjustments or []),
        )
    except InputErrors as exc:
        errors = map_problem_errors(exc.errors, reporting)
        raise Unprocessable(
            "The savings cannot be computed from these inputs: "
            + "; ".join(f"{e['field']}: {e['message']}" for e in errors[:3])
            + (" (see errors[] for all)" if len(errors) > 3 else ""),
            code="savings_not_computable",
            errors=errors,
        ) from None
    record = result.to_dict()
    if not_energy:
        record["warnings"].append(f"the claim on {', '.join(not_energy)} is not an energy saving; not evaluated here")
    _annotate(record, case, reporting)
    if result.norm is not None:
        norm_record["comparison"] = record["norm"]
    return Computation(result, record, reporting, norm_record)


async def compute(
    session: AsyncSession, case: VerificationCase, registry: RegistryClient, settings: MVSettings
) -> Computation:
    """Read the inputs, end the read transaction, ask the registry for the norm, compute (the preview)."""
    reporting = await reporting_inputs(session, case)
    adjustments = await adjustment_rows(session, case)
    await release(session)
    return evaluate(case, reporting, await fetch_norm(registry, norm_query(case, reporting)), settings, adjustments)


async def adjustment_rows(session: AsyncSession, case: VerificationCase) -> list[BaselineAdjustment]:
    return await adjustments_of_case(session, case.id)


def figures(
    case: VerificationCase,
    baselines: list[list[dict[str, Any]]],
    reporting: list[ReportingInput],
    adjustments: list[BaselineAdjustment],
    settings: MVSettings,
) -> list[dict[str, Any]]:
    """The headline figures of the case on each of ``baselines`` and the current measurements, without the norm
    (a re-freeze records them for the old and the new baseline), computed together (``compute_savings_batch``:
    only the headline figures are read, no record is made). Not computable is a figure too, with why."""
    if case.claimed_overall_pct is None or not reporting:
        return [
            {"computable": False, "reason": "no claim or no measurement yet", "baseline_periods": len(baseline)}
            for baseline in baselines
        ]
    energy = default_tables().energy
    claim = Claim(case.claimed_overall_pct, {c: v for c, v in case.claimed_per_carrier.items() if c in energy})
    periods = [revision_period(x.revision) for x in reporting]
    model, approved = model_of(case), approved_for_computation(adjustments)
    results = compute_savings_batch(
        [SavingsCase(baseline_periods(b), periods, claim, model=model, adjustments=approved) for b in baselines],
        settings,
    ).headlines()
    return [_headline(r, len(b), reporting) for r, b in zip(results, baselines, strict=True)]


def _headline(r: SavingsHeadline | InputErrors, baseline_count: int, reporting: list[ReportingInput]) -> dict[str, Any]:
    if isinstance(r, InputErrors):
        return {
            "computable": False,
            "errors": map_problem_errors(r.errors, reporting),
            "baseline_periods": baseline_count,
        }
    return {
        "computable": True,
        "baseline_periods": baseline_count,
        "verdict": r.verdict,
        "method": r.method,
        "verified_savings_pct": r.verified_savings_percent,
        "savings_toe": r.savings_toe,
        "adjusted_baseline_toe": r.adjusted_baseline_toe,
        "measurements_used": [x.used() for x in reporting],
    }


def ensure_may_conclude(principal: Principal, case: VerificationCase, *, require_completion: bool) -> None:
    ensure_acting_verifier(principal, case)
    if case.status == CaseStatus.CONCLUDED:
        raise Conflict("The verification is already concluded.", slug="case-concluded")
    if case.status != CaseStatus.MEASURING:
        raise Conflict(
            f"The case is '{case.status}'; it can be concluded while 'measuring'.",
            code="wrong_case_status",
            params={"status": str(case.status), "expected": "measuring"},
        )
    if require_completion and not case.ready_to_conclude:
        raise Conflict(
            "The project's completion has not been reported by the applications service yet "
            "(event application.completed); conclude after it arrives.",
            slug="not-completed",
        )


def _rounded(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits) + 0.0  # + 0.0 turns -0.0 into 0.0


def concluded_event(case: VerificationCase, result: SavingsResult) -> dict[str, Any]:
    """The payload the applications service consumes (grants/verdicts.py), by the contract."""
    return events.VerificationConcluded(
        application_id=case.application_id,
        verification_id=str(case.id),
        verdict=result.verdict,
        achieved_ratio=_rounded(result.achieved_ratio) if result.achieved_ratio is not None else 0.0,
        verified_savings_pct=_rounded(result.verified_savings_percent),
        claimed_savings_pct=float(result.claimed_percent),
    ).payload()


def ensure_dates_make_sense(case: VerificationCase, reporting: list[ReportingInput]) -> None:
    """At conclusion, against what is known now (the reported completion, today): the baseline ends before the
    implementation starts, every reporting period starts after completion and has ended."""
    errors = baseline_errors(case)
    for r in reporting:
        errors += reporting_period_errors(
            case, r.revision.period_start, r.revision.period_end, prefix=f"measurements[{r.measurement.id}]."
        )
    if errors:
        raise Unprocessable(code="dates_not_consistent", errors=errors)


def conclude(
    session: AsyncSession, principal: Principal, case: VerificationCase, body: ConcludeBody, computation: Computation
) -> Conclusion:
    result = computation.result
    ensure_dates_make_sense(case, computation.reporting)
    if result.normalisation_dropped and not body.review_note:
        dropped = ", ".join(result.normalisation_dropped)
        raise Unprocessable(
            f"The chosen baseline model could not be used and the figure does not normalise for {dropped} "
            "(method " + result.method + "). Send review_note saying why this fallback is acceptable.",
            code="fallback_reason_required",
            params={"dropped": dropped, "method": result.method},
            errors=[
                field_error("review_note", None, "fallback_reason_required", dropped=dropped, method=result.method)
            ],
            warnings=result.warnings,
            normalisation_dropped=result.normalisation_dropped,
            method=result.method,
        )
    if result.requires_review and not body.review_note:
        raise Unprocessable(
            "The computation asks for the verifier's review before concluding: "
            + " | ".join(result.warnings)
            + ". Send review_note saying what you checked and why the figure stands.",
            code="review_required",
            params={"warnings": " | ".join(result.warnings)},
            errors=[field_error("review_note", None, "review_required", warnings=" | ".join(result.warnings))],
            warnings=result.warnings,
            method=result.method,
            verified_savings_pct=result.verified_savings_percent,
        )
    total = result.total
    conclusion = Conclusion(
        case_id=case.id,
        concluded_by_subject=principal.subject,
        concluded_by_name=principal.full_name or principal.display_name,
        verdict=result.verdict,
        method=result.method,
        requires_review=result.requires_review,
        review_note=body.review_note,
        claimed_pct=result.claimed_percent,
        verified_pct=result.verified_savings_percent,
        achieved_ratio=result.achieved_ratio,
        savings_toe=result.savings_toe,
        savings_gj=result.savings_gj,
        savings_tco2=result.savings_tco2,
        adjusted_baseline_toe=total.adjusted_baseline_toe,
        reporting_energy_toe=total.reporting_energy_toe,
        measurements_used=[r.used() for r in computation.reporting],
        norm=computation.norm,
        result=computation.record,
    )
    session.add(conclusion)
    previous = case.status
    case.status = CaseStatus.CONCLUDED
    touch(case)
    pct = "undefined" if result.verified_savings_percent is None else f"{result.verified_savings_percent:.2f} %"
    record_audit(
        session,
        principal,
        entity_type=ENTITY,
        entity_id=case.id,
        action="conclude",
        from_state=previous,
        to_state=case.status,
        reason=f"{result.verdict}: verified savings {pct} against {result.claimed_percent:g} % claimed "
        f"({result.method})" + (f"; review note: {body.review_note}" if body.review_note else ""),
        details={
            "verdict": result.verdict,
            "method": result.method,
            "verified_savings_pct": result.verified_savings_percent,
            "achieved_ratio": result.achieved_ratio,
            "requires_review": result.requires_review,
            "measurements_used": conclusion.measurements_used,
        },
    )
    emit(session, CONCLUDED_EVENT, aggregate_type=ENTITY, aggregate_id=case.id, payload=concluded_event(case, result))
    return conclusion


def to_public(
    case: VerificationCase,
    record: dict[str, Any],
    *,
    norm: dict[str, Any],
    measurements_used: list[dict[str, Any]],
    review_note: str | None,
    concluded_at: dt.datetime | None,
    concluded_by: str | None,
) -> ResultPublic:
    total = record["total"]
    return ResultPublic(
        verification_id=case.id,
        application_id=case.application_id,
        dossier_code=case.dossier_code,
        status="concluded" if concluded_at else "preview",
        verdict=record["verdict"],
        verdict_reasons=record["verdict_reasons"],
        achieved_ratio=record["achieved_ratio"],
        claimed_savings_pct=record["claimed_percent"],
        verified_savings_pct=record["verified_savings_percent"],
        programme_target_percent=record["programme_target_percent"],
        claim_tolerance_pp=record["claim_tolerance_pp"],
        method=record["method"],
        binding_estimate=total.get("binding_estimate"),
        savings=SavingsFigures(
            toe=record["savings_toe"],
            gj=record["savings_gj"],
            tco2=record["savings_tco2"],
            percent=record["verified_savings_percent"],
            adjusted_baseline_toe=total["adjusted_baseline_toe"],
            reporting_energy_toe=total["reporting_energy_toe"],
        ),
        requires_review=record["requires_review"],
        review_note=review_note,
        warnings=record["warnings"],
        fallback_reasons=total["fallback_reasons"],
        model=total["regression"],
        sec=total["sec"],
        carriers=record["carriers"],
        norm=norm,
        emission_factors=record["emission_factors"],
        measurements_used=measurements_used,
        inputs=record["inputs"],
        concluded_at=concluded_at,
        concluded_by=concluded_by,
        normalisation_dropped=record.get("normalisation_dropped", []),
        non_routine_adjustments=record.get("non_routine_adjustments", []),
        unadjusted=total.get("unadjusted"),
        computation=record,
    )


def conclusion_public(case: VerificationCase, conclusion: Conclusion) -> ResultPublic:
    return to_public(
        case,
        conclusion.result,
        norm=conclusion.norm,
        measurements_used=conclusion.measurements_used,
        review_note=conclusion.review_note,
        concluded_at=conclusion.concluded_at,
        concluded_by=conclusion.concluded_by_name or conclusion.concluded_by_subject,
    )


def preview_public(case: VerificationCase, computation: Computation) -> ResultPublic:
    return to_public(
        case,
        computation.record,
        norm=computation.norm,
        measurements_used=[r.used() for r in computation.reporting],
        review_note=None,
        concluded_at=None,
        concluded_by=None,
    )
