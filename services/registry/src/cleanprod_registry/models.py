"""Every table of the registry database (imported by Alembic's env.py and the app)."""

from sqlalchemy import MetaData

from cleanprod_kit.columns import service_metadata as _service_metadata
from cleanprod_kit.models import AuditEntry, IdempotencyRecord, OutboxEvent, ProcessedEvent

from .baselines.models import Baseline
from .enterprises.models import Enterprise
from .facilities.models import Facility, FacilityWord
from .sectors.models import Norm, Sector

__all__ = [
    "AuditEntry",
    "Baseline",
    "Enterprise",
    "Facility",
    "FacilityWord",
    "IdempotencyRecord",
    "Norm",
    "OutboxEvent",
    "ProcessedEvent",
    "Sector",
    "service_metadata",
]


def service_metadata() -> MetaData:
    """Every table of the registry database: the kit's plus the registry's own."""
    return _service_metadata(Sector, Norm, Enterprise, Facility, FacilityWord, Baseline)
