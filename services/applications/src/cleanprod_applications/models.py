"""Every table of the applications database (imported by Alembic's env.py and the app)."""

from sqlalchemy import MetaData

from cleanprod_kit.columns import service_metadata as _service_metadata
from cleanprod_kit.models import AuditEntry, IdempotencyRecord, OutboxEvent, ProcessedEvent

from .applications.models import Application, DossierSequence
from .calls.models import Call
from .documents.models import Document
from .grants.models import PendingVerdict, Tranche
from .reviews.models import ReviewerAssignment

__all__ = ["Application", "AuditEntry", "Call", "Document", "DossierSequence", "IdempotencyRecord", "OutboxEvent",
           "PendingVerdict", "ProcessedEvent", "ReviewerAssignment", "Tranche"]


def service_metadata() -> MetaData:
    """Every table of this service's database: the kit's plus this service's own."""
    return _service_metadata(Application, Call, Document, DossierSequence, PendingVerdict, ReviewerAssignment, Tranche)
