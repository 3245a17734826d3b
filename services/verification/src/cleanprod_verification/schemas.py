"""Text field types shared by several verification domains (the body bases and the other input types are the
kit's, `cleanprod_kit.fields`)."""

from __future__ import annotations

from cleanprod_kit.fields import Text

Text200 = Text(200)
Text2000 = Text(2000, multiline=True)
Text4000 = Text(4000, multiline=True)
Subject = Text(255)
