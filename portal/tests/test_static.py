"""Vendored htmx is the pinned file (SHA-256 from static/vendor/README.md) and is served by the portal."""

from __future__ import annotations

import hashlib

from cleanprod_portal.templating import HTMX_FILE, STATIC_DIR

HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"


def test_vendored_htmx_is_the_pinned_file() -> None:
    assert hashlib.sha256((STATIC_DIR / HTMX_FILE).read_bytes()).hexdigest() == HTMX_SHA256
    assert HTMX_SHA256 in (STATIC_DIR / "vendor" / "README.md").read_text()


async def test_static_files_are_served_from_the_portal(make_client) -> None:
    async with make_client() as client:
        page = await client.get("/")
        assert f'src="/static/{HTMX_FILE}"' in page.text and "https://" not in page.text.split("</head>")[0]
        js = await client.get(f"/static/{HTMX_FILE}")
        assert js.status_code == 200 and hashlib.sha256(js.content).hexdigest() == HTMX_SHA256
        css = await client.get("/static/css/portal.css")
        assert css.status_code == 200 and "text/css" in css.headers["content-type"]
