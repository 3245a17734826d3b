"""The verdict on a claim: ``verified`` or ``not_achieved``.

``verified`` when all of:
  * verified savings % ≥ claimed % − ``claim_tolerance_pp`` (an absolute tolerance in percentage points:
    default 0.5 pp, i.e. a claimed 8 % is met by 7.5 %; absolute, because a relative tolerance would be
    lenient on large claims and harsh on small ones);
  * verified savings % ≥ ``programme_target_percent`` (default 6 %, the lower end of the programme's 6–8 %);
  * when the savings come from a regression baseline and ``require_uncertainty_within_limit`` is on: the
    fractional savings uncertainty meets the acceptance limit (savings not distinguishable from model noise
    are not verified savings).
Boundaries are inclusive; comparisons allow 1e-9 pp so that float rounding of an exact boundary (7.5 computed
as 7.4999999999) cannot flip a verdict.
Otherwise ``not_achieved``. In both cases achieved_ratio = verified / claimed, clamped at ≥ 0 (None when
nothing positive was claimed); the applications service uses it to reduce the balance pro rata.
"""

from __future__ import annotations

from dataclasses import dataclass, field

VERIFIED = "verified"
NOT_ACHIEVED = "not_achieved"
_EPS_PP = 1e-9


@dataclass(frozen=True)
class VerdictRules:
    claim_tolerance_pp: float = 0.5
    programme_target_percent: float = 6.0
    require_uncertainty_within_limit: bool = True


@dataclass(frozen=True, slots=True)
class Verdict:
    status: str  # VERIFIED | NOT_ACHIEVED
    achieved_ratio: float | None
    reasons: list[str] = field(default_factory=list)


def achieved_ratio(verified_percent: float | None, claimed_percent: float | None) -> float | None:
    if verified_percent is None or claimed_percent is None or claimed_percent <= 0:
        return None
    return max(0.0, verified_percent / claimed_percent)


def decide(
    verified_percent: float | None,
    claimed_percent: float,
    rules: VerdictRules,
    *,
    uncertainty_ok: bool | None = None,
    uncertainty_message: str = "",
) -> Verdict:
    """``uncertainty_ok`` is None when no uncertainty applies (SEC method)."""
    reasons: list[str] = []
    ok = True
    if verified_percent is None:
        return Verdict(NOT_ACHIEVED, None, ["verified savings cannot be computed (baseline energy is zero)"])

    needed = claimed_percent - rules.claim_tolerance_pp
    if verified_percent + _EPS_PP >= needed:
        reasons.append(
            f"verified savings {verified_percent:.2f} % meet the claimed {claimed_percent:.2f} % "
            f"(tolerance {rules.claim_tolerance_pp:g} pp)"
        )
    else:
        ok = False
        reasons.append(
            f"verified savings {verified_percent:.2f} % are below the claimed {claimed_percent:.2f} % "
            f"minus the {rules.claim_tolerance_pp:g} pp tolerance ({needed:.2f} %)"
        )
    target = rules.programme_target_percent
    if verified_percent + _EPS_PP >= target:
        reasons.append(f"verified savings {verified_percent:.2f} % meet the programme target {target:g} %")
    else:
        ok = False
        reasons.append(f"verified savings {verified_percent:.2f} % are below the programme target {target:g} %")
    if uncertainty_ok is not None and rules.require_uncertainty_within_limit:
        if not uncertainty_ok:
            ok = False
        reasons.append(uncertainty_message)
    return Verdict(VERIFIED if ok else NOT_ACHIEVED, achieved_ratio(verified_percent, claimed_percent), reasons)
