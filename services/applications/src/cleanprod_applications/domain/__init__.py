"""Pure domain rules of the applications service: no I/O, no database, no web framework.

Everything here is deterministic and exact (money as int VND, rates as integer basis points, ratios as
``Fraction``, dates in Asia/Ho_Chi_Minh), so the service layer can call it inside a transaction and the
rules can be tested exhaustively without a database.

Modules, one per concern:

* :mod:`.lifecycle`    — statuses, actions, allowed transitions, which role may act
* :mod:`.screening`    — automatic eligibility screening on (re)submission
* :mod:`.scoring`      — rubric validation, weighted scores, review aggregation
* :mod:`.grants`       — approved support amount and decision refusals (four-eyes, min reviews)
* :mod:`.tranches`     — advance and balance payments, recovery after verification
* :mod:`.dossier_code` — mã hồ sơ per Circular 01/2018/TT-VPCP art. 19
* :mod:`.egov_status`  — application status → national TrangThaiHoSo code
* :mod:`.exact` — exact arithmetic; local dates come from the kit's stdlib-only `cleanprod_kit.local_time`

The names below are the API the service layer is meant to use.
"""

from cleanprod_kit.local_time import LOCAL_TZ, local_date

from .dossier_code import (
    DailySequenceExhausted,
    DossierCode,
    InvalidDossierCode,
    format_dossier_code,
    parse_dossier_code,
)
from .egov_status import EgovStatus, egov_status
from .grants import Award, Limit, Refusal, RefusalCode, approved_support, decision_refusal
from .lifecycle import (
    TERMINAL_STATUSES,
    Action,
    ApplicationStatus,
    IllegalTransition,
    Role,
    allowed_actions,
    may_perform,
    transition,
)
from .scoring import (
    Criterion,
    InvalidScores,
    Review,
    ReviewSummary,
    Rubric,
    Score,
    ScoreProblem,
    summarise_reviews,
    validate_scores,
    weighted_score,
)
from .screening import ApplicationFacts, CallTerms, ReasonCode, ScreeningReason, screen, screening_action
from .tranches import Settlement, Verdict, achieved_ratio, advance_amount, settle

__all__ = [
    "LOCAL_TZ",
    "TERMINAL_STATUSES",
    "Action",
    "ApplicationFacts",
    "ApplicationStatus",
    "Award",
    "CallTerms",
    "Criterion",
    "DailySequenceExhausted",
    "DossierCode",
    "EgovStatus",
    "IllegalTransition",
    "InvalidDossierCode",
    "InvalidScores",
    "Limit",
    "ReasonCode",
    "Refusal",
    "RefusalCode",
    "Review",
    "ReviewSummary",
    "Role",
    "Rubric",
    "Score",
    "ScoreProblem",
    "ScreeningReason",
    "Settlement",
    "Verdict",
    "achieved_ratio",
    "advance_amount",
    "allowed_actions",
    "approved_support",
    "decision_refusal",
    "egov_status",
    "format_dossier_code",
    "local_date",
    "may_perform",
    "parse_dossier_code",
    "screen",
    "screening_action",
    "settle",
    "summarise_reviews",
    "transition",
    "validate_scores",
    "weighted_score",
]
