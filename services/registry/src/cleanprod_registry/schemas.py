"""Text field types shared by several registry domains (the body bases and the other input types are the kit's,
`cleanprod_kit.fields`)."""

from __future__ import annotations

from cleanprod_kit.fields import Text

Text200 = Text(200)
Text300 = Text(300)
Text500 = Text(500)
Place = Text(120)
Notes = Text(2000, multiline=True)
