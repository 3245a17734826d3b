"""The verification results export: one row per case of the filtered list (`GET /verifications`), with the
conclusion's headline figures (verdict, claimed and verified %, savings in TOE, GJ and t CO₂) once concluded."""

from __future__ import annotations

from typing import Any

from cleanprod_kit.exports import Column

from ..conclusions.models import Conclusion
from .models import VerificationCase

Row = tuple[VerificationCase, Conclusion | None, int]  # case, conclusion (headline figures), baseline periods


def _case(name: str) -> Any:
    return lambda r: getattr(r[0], name)


def _conclusion(name: str) -> Any:
    return lambda r: getattr(r[1], name) if r[1] is not None else None


RESULT_COLUMNS = (
    Column("dossier_code", "Mã hồ sơ", "Dossier code", value=_case("dossier_code")),
    Column("project_title", "Tên dự án", "Project title", value=_case("project_title")),
    Column("enterprise_name", "Doanh nghiệp", "Enterprise", value=_case("enterprise_name")),
    Column("enterprise_tax_code", "Mã số thuế", "Tax code", value=_case("enterprise_tax_code")),
    Column("facility_name", "Cơ sở sản xuất", "Facility", value=_case("facility_name")),
    Column("sector_code", "Ngành", "Sector", value=_case("sector_code")),
    Column("district", "Quận/huyện", "District", value=_case("district")),
    Column("ward", "Phường/xã", "Ward/commune", value=_case("ward")),
    Column("status", "Trạng thái thẩm tra", "Verification status", value=_case("status")),
    Column("verifier", "Người thẩm tra", "Verifier", value=_case("verifier_username")),
    Column("verdict", "Kết luận", "Verdict", value=_conclusion("verdict")),
    Column("method", "Phương pháp", "Method", value=_conclusion("method")),
    Column(
        "claimed_pct", "Mức tiết kiệm cam kết (%)", "Claimed saving (%)", "number", value=_conclusion("claimed_pct")
    ),
    Column(
        "verified_pct", "Mức tiết kiệm xác nhận (%)", "Verified saving (%)", "number", value=_conclusion("verified_pct")
    ),
    Column("achieved_ratio", "Tỷ lệ đạt", "Achieved ratio", "number", value=_conclusion("achieved_ratio")),
    Column("savings_toe", "Tiết kiệm (TOE)", "Savings (TOE)", "number", value=_conclusion("savings_toe")),
    Column("savings_gj", "Tiết kiệm (GJ)", "Savings (GJ)", "number", value=_conclusion("savings_gj")),
    Column(
        "savings_tco2",
        "Giảm phát thải (t CO₂)",
        "Emissions avoided (t CO₂)",
        "number",
        value=_conclusion("savings_tco2"),
    ),
    Column(
        "approved_support_vnd",
        "Kinh phí được duyệt (đồng)",
        "Approved support (VND)",
        "int",
        value=_case("approved_support_vnd"),
    ),
    Column("completed_on", "Ngày hoàn thành", "Completed on", "date", value=_case("completed_on")),
    Column("concluded_at", "Thời điểm kết luận", "Concluded at", "datetime", value=_conclusion("concluded_at")),
    Column("id", "Mã hồ sơ thẩm tra", "Case id", value=_case("id")),
)
