"""Every table of the verification database (imported by Alembic's env.py and the app)."""

from cleanprod_kit.models import AuditEntry, IdempotencyRecord, OutboxEvent, ProcessedEvent

from .assignments.models import VerifierAssignment
from .cases.models import VerificationCase
from .conclusions.models import Conclusion
from .measurements.models import Measurement, MeasurementRevision

__all__ = ["AuditEntry", "Conclusion", "IdempotencyRecord", "Measurement", "MeasurementRevision", "OutboxEvent",
           "ProcessedEvent", "VerificationCase", "VerifierAssignment"]
