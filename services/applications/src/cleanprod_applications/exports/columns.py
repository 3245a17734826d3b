"""The columns of the applications and tranches exports (Vietnamese and English headers, cell types)."""

from __future__ import annotations

from cleanprod_kit.exports import Column

APPLICATION_COLUMNS = (
    Column("dossier_code", "Mã hồ sơ", "Dossier code"),
    Column("title", "Tên dự án", "Project title"),
    Column("enterprise_name", "Doanh nghiệp", "Enterprise"),
    Column("enterprise_tax_code", "Mã số thuế", "Tax code"),  # text: leading zeros matter
    Column("facility_name", "Cơ sở sản xuất", "Facility"),
    Column("sector_code", "Ngành", "Sector"),
    Column("status", "Trạng thái", "Status"),
    Column("total_cost_vnd", "Tổng chi phí (đồng)", "Total cost (VND)", "int"),
    Column("eligible_cost_vnd", "Chi phí hợp lệ (đồng)", "Eligible cost (VND)", "int"),
    Column("requested_support_vnd", "Kinh phí đề nghị hỗ trợ (đồng)", "Requested support (VND)", "int"),
    Column("approved_support_vnd", "Kinh phí được duyệt (đồng)", "Approved support (VND)", "int"),
    Column("claimed_overall_saving_pct", "Mức tiết kiệm cam kết (%)", "Claimed saving (%)", "number"),
    Column("review_score_pct", "Điểm thẩm định (%)", "Review score (%)", "number"),
    Column("verified_savings_pct", "Mức tiết kiệm được xác nhận (%)", "Verified saving (%)", "number"),
    Column("implementation_start", "Ngày bắt đầu thực hiện", "Implementation start", "date"),
    Column("implementation_end", "Ngày kết thúc thực hiện", "Implementation end", "date"),
    Column("submitted_at", "Thời điểm nộp", "Submitted at", "datetime"),
    Column("decided_at", "Thời điểm quyết định", "Decided at", "datetime"),
    Column("id", "Mã định danh", "Id"),
)

# One row per tranche: (application, tranche) pairs.
TRANCHE_COLUMNS = (
    Column("dossier_code", "Mã hồ sơ", "Dossier code", value=lambda r: r[0].dossier_code),
    Column("enterprise_name", "Doanh nghiệp", "Enterprise", value=lambda r: r[0].enterprise_name),
    Column("enterprise_tax_code", "Mã số thuế", "Tax code", value=lambda r: r[0].enterprise_tax_code),
    Column("title", "Tên dự án", "Project title", value=lambda r: r[0].title),
    Column("application_status", "Trạng thái hồ sơ", "Application status", value=lambda r: r[0].status),
    Column("kind", "Đợt thanh toán", "Tranche", value=lambda r: r[1].kind),
    Column("tranche_status", "Trạng thái đợt", "Tranche status", value=lambda r: r[1].status),
    Column("planned_vnd", "Số tiền dự kiến (đồng)", "Planned (VND)", "int", value=lambda r: r[1].planned_vnd),
    Column("amount_vnd", "Số tiền (đồng)", "Amount (VND)", "int", value=lambda r: r[1].amount_vnd),
    Column("updated_at", "Cập nhật lúc", "Updated at", "datetime", value=lambda r: r[1].updated_at),
    Column("application_id", "Mã định danh hồ sơ", "Application id", value=lambda r: r[0].id),
)
