"""Request and response building blocks shared by several verification domains."""

from __future__ import annotations

from cleanprod_kit.fields import CalendarDate, Flag, PatchBody, ProgrammeDate, StrictBody, Text

Text200 = Text(200)
Text2000 = Text(2000, multiline=True)
Text4000 = Text(4000, multiline=True)
Subject = Text(255)

__all__ = ["CalendarDate", "Flag", "PatchBody", "ProgrammeDate", "StrictBody", "Subject", "Text", "Text200",
           "Text2000", "Text4000"]
