"""The checks every page gets can fail: axe-core finds violations in a page that has them, the token search finds
an access token and leaves an ID token alone, and the mojibake pattern tells UTF-8 read as Latin-1."""

from __future__ import annotations

import base64
import json

from browser_helpers import MOJIBAKE, OtherSite, Ui, format_violations, token_leaks


def _jwt(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJlLW5vdC1jaGVja2Vk"


def test_axe_reports_serious_and_critical_violations(ui: Ui) -> None:
    broken = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>x</title></head><body><main>'
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><button></button>'
        '<p style="color:#fff;background:#fff">vô hình</p><input type="text"></main></body></html>'
    )
    with OtherSite(broken) as site:
        ui.page.goto(site.url)
        violations = ui.axe()
    found = {v["id"] for v in violations}
    assert {"image-alt", "button-name", "label", "color-contrast"} <= found, found
    assert "- image-alt (critical): " in format_violations(violations)


def test_token_search_finds_access_and_refresh_tokens_only() -> None:
    access = _jwt({"typ": "Bearer", "sub": "x"})
    refresh = _jwt({"typ": "Refresh", "sub": "x"})
    id_token = _jwt({"typ": "ID", "sub": "x"})
    texts = [
        ("GET /a (body)", f"<p>{access}</p>"),
        ("GET /b (response header set-cookie)", f"k={refresh}"),
        ("GET /logout (redirect)", f"/logout?id_token_hint={id_token}"),
        ("GET /c (URL)", "/c?x=opaque"),
    ]
    leaks = token_leaks(texts, {"opaque"})
    assert any("Bearer" in leak and "GET /a" in leak for leak in leaks)
    assert any("Refresh" in leak and "set-cookie" in leak for leak in leaks)
    assert any("session table" in leak and "GET /c" in leak for leak in leaks)
    assert not any("/logout" in leak for leak in leaks)


def test_mojibake_pattern() -> None:
    for good in ("Sở Công Thương Hà Nội", "Hồ sơ đề nghị hỗ trợ", "1.234.567 ₫", "Đỗ Mạnh Hùng"):
        assert MOJIBAKE.search(good) is None, good
    for bad in ("Sá»Ÿ CÃ´ng ThÆ°Æ¡ng", "HÃ  Ná»™i", "Hồ s\ufffd"):
        assert MOJIBAKE.search(bad) is not None, bad
