"""Every table of the verification database (imported by Alembic's env.py and the app)."""

from sqlalchemy import MetaData

from cleanprod_kit.columns import service_metadata as _service_metadata
from cleanprod_kit.models import AuditEntry, IdempotencyRecord, OutboxEvent, ProcessedEvent

from .adjustments.models import BaselineAdjustment
from .assignments.models import VerifierAssignment
from .cases.models import VerificationCase
from .conclusions.models import Conclusion
from .measurements.models import Measurement, MeasurementRevision
from .programme.models import SummaryGeneration
from .refreezes.models import BaselineRefreeze

__all__ = [
    "AuditEntry",
    "BaselineAdjustment",
    "BaselineRefreeze",
    "Conclusion",
    "IdempotencyRecord",
    "Measurement",
    "MeasurementRevision",
    "OutboxEvent",
    "ProcessedEvent",
    "SummaryGeneration",
    "VerificationCase",
    "VerifierAssignment",
]


def service_metadata() -> MetaData:
    """Every table of this service's database: the kit's plus this service's own."""
    return _service_metadata(
        BaselineAdjustment,
        BaselineRefreeze,
        Conclusion,
        Measurement,
        MeasurementRevision,
        SummaryGeneration,
        VerificationCase,
        VerifierAssignment,
    )
