"""Request and response building blocks shared by several registry domains."""

from __future__ import annotations

from cleanprod_kit.fields import CalendarDate, Flag, PatchBody, ProgrammeDate, StrictBody, Text

Text200 = Text(200)
Text300 = Text(300)
Text500 = Text(500)
Place = Text(120)
Notes = Text(2000, multiline=True)

__all__ = ["CalendarDate", "Flag", "Notes", "PatchBody", "Place", "ProgrammeDate", "StrictBody", "Text",
           "Text200", "Text300", "Text500"]
