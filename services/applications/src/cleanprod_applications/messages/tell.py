"""Who is told about a shared message (the notifications of issue 10, contract 4): a message from the Department
tells the enterprise's accounts, one from the enterprise tells the officers."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from ..applications.models import Application
from .models import Message


async def tell_about(session: AsyncSession, application: Application, message: Message) -> None:
    return None  # filled in once the notifications table (branch notify-core) is merged
