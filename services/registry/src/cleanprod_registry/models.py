"""Every table of the registry database (imported by Alembic's env.py and the app)."""

from cleanprod_kit.models import AuditEntry, IdempotencyRecord, OutboxEvent, ProcessedEvent

from .baselines.models import Baseline
from .enterprises.models import Enterprise
from .facilities.models import Facility
from .sectors.models import Norm, Sector

__all__ = ["AuditEntry", "Baseline", "Enterprise", "Facility", "IdempotencyRecord", "Norm", "OutboxEvent",
           "ProcessedEvent", "Sector"]
