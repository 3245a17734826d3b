"""Every table of the verification database (imported by Alembic's env.py and the app)."""

from sqlalchemy import MetaData

from cleanprod_kit.models import AuditEntry, IdempotencyRecord, OutboxEvent, ProcessedEvent

from .assignments.models import VerifierAssignment
from .cases.models import VerificationCase
from .conclusions.models import Conclusion
from .measurements.models import Measurement, MeasurementRevision

__all__ = ["AuditEntry", "Conclusion", "IdempotencyRecord", "Measurement", "MeasurementRevision", "OutboxEvent",
           "ProcessedEvent", "VerificationCase", "VerifierAssignment"]


def service_metadata() -> MetaData:
    """Only this service's tables (SQLModel.metadata also holds other services' tables when they share a process,
    as in the tests that run the registry in-process)."""
    metadata = MetaData()
    for name in __all__:
        globals()[name].__table__.to_metadata(metadata)
    return metadata
