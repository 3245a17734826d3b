"""Every table of the applications database (imported by Alembic's env.py and the app)."""

from sqlalchemy import MetaData

from cleanprod_kit.models import AuditEntry, IdempotencyRecord, OutboxEvent, ProcessedEvent

from .applications.models import Application, DossierSequence
from .calls.models import Call
from .documents.models import Document
from .grants.models import PendingVerdict, Tranche
from .reviews.models import ReviewerAssignment

__all__ = ["Application", "AuditEntry", "Call", "Document", "DossierSequence", "IdempotencyRecord", "OutboxEvent",
           "PendingVerdict", "ProcessedEvent", "ReviewerAssignment", "Tranche"]


def service_metadata() -> MetaData:
    """Only this service's tables (SQLModel.metadata also holds other services' tables when they share a process,
    as in tests that run the registry in-process)."""
    metadata = MetaData()
    for name in __all__:
        globals()[name].__table__.to_metadata(metadata)
    return metadata
