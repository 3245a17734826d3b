"""Every table of the applications database (imported by Alembic's env.py and the app)."""

from sqlalchemy import Index, MetaData

from cleanprod_kit.columns import service_metadata as _service_metadata
from cleanprod_kit.models import AuditEntry, IdempotencyRecord, OutboxEvent, ProcessedEvent

from .applications.models import Application, DossierSequence
from .calls.models import Call
from .documents.models import Document, DocumentBlob, DocumentBlobChunk
from .funding.models import AwardAllocation, FundingSource
from .grants.models import PendingVerdict, RecoveryCollection, Tranche
from .handbooks.models import Handbook, HandbookVersion
from .integrations.models import FanoutPosition, WebhookDelivery, WebhookSubscription
from .mail.models import MailDelivery, MailResolution
from .messages.models import Message
from .notifications.models import Notification, NotificationPreference, NotificationRead
from .reviews.models import ReviewerAssignment
from .showcase.models import ShowcaseConsent
from .supplements.models import SupplementItem, SupplementRequest
from .verifiers.models import VerifierAssignment

__all__ = [
    "Application",
    "AuditEntry",
    "Call",
    "Document",
    "DocumentBlob",
    "DocumentBlobChunk",
    "DossierSequence",
    "IdempotencyRecord",
    "OutboxEvent",
    "PendingVerdict",
    "ProcessedEvent",
    "ReviewerAssignment",
    "Tranche",
    "FanoutPosition",
    "WebhookDelivery",
    "WebhookSubscription",
    "VerifierAssignment",
    "SupplementRequest",
    "SupplementItem",
    "ShowcaseConsent",
    "Handbook",
    "HandbookVersion",
    "Message",
    "Notification",
    "NotificationRead",
    "NotificationPreference",
    "MailResolution",
    "MailDelivery",
    "FundingSource",
    "AwardAllocation",
    "RecoveryCollection",
]


def service_metadata() -> MetaData:
    """Every table of this service's database: the kit's plus this service's own."""
    metadata = _service_metadata(
        Application,
        Call,
        Document,
        DocumentBlob,
        DocumentBlobChunk,
        DossierSequence,
        PendingVerdict,
        ReviewerAssignment,
        Tranche,
        WebhookSubscription,
        WebhookDelivery,
        FanoutPosition,
        VerifierAssignment,
        SupplementRequest,
        SupplementItem,
        ShowcaseConsent,
        Handbook,
        HandbookVersion,
        Message,
        Notification,
        NotificationRead,
        NotificationPreference,
        MailResolution,
        MailDelivery,
        FundingSource,
        AwardAllocation,
        RecoveryCollection,
    )
    # The event feed and the webhook fan-out read the outbox in (txid, seq) order (migration 0002). Added to this
    # service's copy of the kit table only, so other services' schemas are unaffected.
    outbox = metadata.tables["outbox_events"]
    Index("ix_outbox_events_txid_seq", outbox.c.txid, outbox.c.seq)
    return metadata
