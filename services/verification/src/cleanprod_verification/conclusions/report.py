"""The printable verification report: one self-contained HTML page (inline CSS, no scripts), headings in
Vietnamese with their English translation, every figure of the stored computation, the inputs with their
sources, the method and model statistics, the verdict and a signature block.

Figures use the Vietnamese convention (1.234,56: dot for thousands, comma for decimals), as official documents
of the Department do; the report says so in its header."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from ..cases.models import VerificationCase
from ..local_time import local
from .models import Conclusion

VERDICT_LABEL = {"verified": ("ĐẠT", "Verified"), "not_achieved": ("KHÔNG ĐẠT", "Not achieved")}
METHOD_LABEL = {
    "regression": ("Mô hình hồi quy đường cơ sở (IPMVP phương án C / ISO 50006)",
                   "Regression baseline model (IPMVP Option C / ISO 50006)"),
    "sec": ("Suất tiêu hao năng lượng (SEC = E/P)", "Specific energy consumption (SEC = E/P)"),
    "sec_capped_by_regression": (
        "SEC giới hạn bởi hồi quy: lấy giá trị thấp hơn vì điều kiện kỳ báo cáo nằm ngoài phạm vi đường cơ sở",
        "SEC capped by regression: the lower estimate, as reporting conditions lie outside the baseline range"),
}
CHECK_LABEL = {
    "min_baseline_periods": "Số kỳ đường cơ sở / Baseline periods",
    "r_squared": "R²",
    "cv_rmse": "CV(RMSE)",
    "nmbe": "NMBE",
    "f_test_p_value": "Kiểm định F (p) / F-test p-value",
    "fractional_savings_uncertainty": "Độ bất định tiết kiệm (FSU) / Fractional savings uncertainty",
}
CSS = """
body{font-family:"Times New Roman",Times,serif;font-size:12pt;color:#111;margin:2cm auto;max-width:19cm;line-height:1.35}
h1{font-size:15pt;text-align:center;margin:.6em 0 .1em}h1 small{display:block;font-size:11pt;font-weight:normal;font-style:italic}
h2{font-size:12.5pt;border-bottom:1px solid #444;margin:1.4em 0 .4em;padding-bottom:2px}
h2 small,th small,.en{font-weight:normal;font-style:italic;color:#444}
.agency{text-align:center;font-weight:bold;text-transform:uppercase}.agency small{display:block;font-weight:normal;text-transform:none}
.meta{text-align:center;font-size:10pt;color:#444}
table{border-collapse:collapse;width:100%;margin:.3em 0 .6em;font-size:10.5pt}
th,td{border:1px solid #999;padding:3px 6px;vertical-align:top;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.kv th{width:38%;background:#f3f3f3}
.verdict{font-size:14pt;font-weight:bold;padding:.4em .8em;border:2px solid;display:inline-block;margin:.3em 0}
.ok{color:#0a5d1e;border-color:#0a5d1e}.no{color:#8a1010;border-color:#8a1010}
.pass{color:#0a5d1e}.fail{color:#8a1010}
.warn{background:#fff6dc;border:1px solid #d9b650;padding:.4em .8em;margin:.4em 0}
.sign{display:flex;justify-content:space-between;gap:1em;margin-top:1.2em;page-break-inside:avoid}
.sign div{flex:1;text-align:center;min-height:4.5cm}.sign div p{margin:.2em 0}
@media print{body{margin:1.5cm}h2{page-break-after:avoid}table{page-break-inside:auto}tr{page-break-inside:avoid}}
"""


RANGE_SUFFIX = "_within_baseline_range"
VARIABLE_LABEL = {"production": "Sản lượng / Production", "cdd": "CDD", "hdd": "HDD"}


def _check_label(name: str) -> str:
    if name.endswith(RANGE_SUFFIX):
        variable = name.removesuffix(RANGE_SUFFIX)
        return (f"{VARIABLE_LABEL.get(variable, variable)} kỳ báo cáo trong phạm vi đường cơ sở / "
                "reporting values within the baseline range")
    return CHECK_LABEL.get(name, name.replace("_", " "))


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def num(value: Any, digits: int = 2) -> str:
    """1234567.891 → 1.234.567,89 (Vietnamese convention); None → —."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return esc(value)
    text = f"{value:,.{digits}f}"
    if text.startswith("-") and not any(ch not in "-0.," for ch in text):
        text = text[1:]  # −0,00 reads as a figure that does not exist
    return text.replace(",", "\u00a0").replace(".", ",").replace("\u00a0", ".")


def pct(value: Any, digits: int = 2) -> str:
    return "—" if value is None else f"{num(value, digits)} %"


def frac_pct(value: Any, digits: int = 2) -> str:
    """A fraction (0.051) shown as a percentage (5,10 %)."""
    return "—" if not isinstance(value, (int, float)) or isinstance(value, bool) else pct(value * 100, digits)


def h2(vi: str, en: str) -> str:
    return f"<h2>{esc(vi)} <small>/ {esc(en)}</small></h2>"


def th(vi: str, en: str | None = None) -> str:
    return f"<th>{esc(vi)}" + (f"<br><small>{esc(en)}</small>" if en else "") + "</th>"


def kv(rows: Iterable[tuple[str, str, str]]) -> str:
    """(Vietnamese label, English label, already-escaped value HTML)."""
    body = "".join(f"<tr>{th(vi, en)}<td>{value}</td></tr>" for vi, en, value in rows)
    return f'<table class="kv">{body}</table>'


def table(headers: Sequence[tuple[str, str | None]], rows: Iterable[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    head = "".join(th(vi, en) for vi, en in headers)
    body = "".join("<tr>" + "".join(f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>"
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _general(case: VerificationCase) -> str:
    supplier = " — ".join(x for x in (case.supplier_name, case.supplier_tax_code) if x) or "—"
    place = ", ".join(x for x in (case.ward, case.district) if x) or "—"
    capacity = (f"{num(case.capacity_quantity, 0)} {esc(case.capacity_unit or '')}"
                if case.capacity_quantity is not None else "—")
    implementation = f"{esc(case.implementation_start or '—')} → {esc(case.implementation_end or '—')}"
    return h2("1. Thông tin chung", "General information") + kv([
        ("Mã hồ sơ", "Dossier code", esc(case.dossier_code or "—")),
        ("Mã thẩm tra", "Verification id", esc(case.id)),
        ("Mã hồ sơ đề nghị hỗ trợ", "Application id", esc(case.application_id)),
        ("Dự án", "Project", esc(case.project_title or "—")),
        ("Doanh nghiệp", "Enterprise", esc(case.enterprise_name or "—")),
        ("Mã số doanh nghiệp (MST)", "Tax code", esc(case.enterprise_tax_code or "—")),
        ("Cơ sở sản xuất", "Facility", esc(case.facility_name or case.facility_id)),
        ("Ngành", "Sector", esc(case.sector_code or "—")),
        ("Sản phẩm", "Products", esc(", ".join(case.products) or "—")),
        ("Công suất", "Capacity", capacity),
        ("Phường/xã, quận/huyện", "Ward, district", esc(place)),
        ("Nhà cung cấp công nghệ", "Technology supplier", esc(supplier)),
        ("Thời gian thực hiện", "Implementation", implementation),
        ("Ngày hoàn thành", "Completed on", esc(case.completed_on or "—")),
        ("Kinh phí hỗ trợ được duyệt", "Approved support",
         f"{num(case.approved_support_vnd, 0)} VND" if case.approved_support_vnd is not None else "—"),
    ])


def _verdict(conclusion: Conclusion, r: dict[str, Any]) -> str:
    vi, en = VERDICT_LABEL.get(conclusion.verdict, (conclusion.verdict, conclusion.verdict))
    css = "ok" if conclusion.verdict == "verified" else "no"
    reasons = "".join(f"<li>{esc(x)}</li>" for x in r.get("verdict_reasons", []))
    return (h2("2. Kết luận thẩm tra", "Verdict")
            + f'<div class="verdict {css}">{esc(vi)} <span class="en">/ {esc(en)}</span></div>'
            + kv([
                ("Mức tiết kiệm đăng ký", "Claimed savings", pct(r.get("claimed_percent"))),
                ("Mức tiết kiệm được thẩm tra", "Verified savings", pct(r.get("verified_savings_percent"))),
                ("Tỷ lệ đạt (thẩm tra / đăng ký)", "Achieved ratio (verified / claimed)",
                 num(r.get("achieved_ratio"), 4)),
                ("Mục tiêu chương trình", "Programme target", pct(r.get("programme_target_percent"), 1)),
                ("Dung sai so với mức đăng ký", "Tolerance on the claim",
                 f"{num(r.get('claim_tolerance_pp'), 2)} điểm % / pp"),
            ])
            + f"<p><b>Căn cứ</b> <span class='en'>/ Reasons</span></p><ul>{reasons}</ul>")


def _savings(r: dict[str, Any]) -> str:
    total = r["total"]
    head = kv([
        ("Năng lượng tiết kiệm (TOE)", "Energy saved (TOE)", num(r.get("savings_toe"), 3)),
        ("Năng lượng tiết kiệm (GJ)", "Energy saved (GJ)", num(r.get("savings_gj"), 1)),
        ("Giảm phát thải CO₂ (tấn)", "CO₂ avoided (t)", num(r.get("savings_tco2"), 2)),
        ("Tỷ lệ tiết kiệm", "Savings", pct(r.get("verified_savings_percent"))),
        ("Đường cơ sở điều chỉnh (TOE)", "Adjusted baseline (TOE)", num(total.get("adjusted_baseline_toe"), 3)),
        ("Tiêu thụ thực tế kỳ báo cáo (TOE)", "Actual reporting use (TOE)", num(total.get("reporting_energy_toe"), 3)),
        ("Tiêu thụ kỳ cơ sở (TOE)", "Baseline use (TOE)", num(total.get("baseline_energy_toe"), 3)),
    ])
    rows = [[esc(c["carrier"]), esc(c["method"]), num(c["baseline_energy_toe"], 3), num(c["reporting_energy_toe"], 3),
             num(c["adjusted_baseline_toe"], 3), num(c["savings_toe"], 3), num(c["savings_gj"], 1),
             num(c["savings_tco2"], 2), pct(c.get("savings_percent")), pct(c.get("claimed_percent")),
             num(c.get("achieved_ratio"), 3)] for c in r.get("carriers", [])]
    carriers = table([("Dạng năng lượng", "Carrier"), ("Phương pháp", "Method"), ("Cơ sở (TOE)", "Baseline"),
                      ("Báo cáo (TOE)", "Reporting"), ("Cơ sở điều chỉnh (TOE)", "Adjusted"),
                      ("Tiết kiệm (TOE)", "Saved"), ("Tiết kiệm (GJ)", "Saved"), ("CO₂ (t)", None),
                      ("Tỷ lệ", "Savings %"), ("Đăng ký", "Claimed %"), ("Tỷ lệ đạt", "Ratio")],
                     rows, numeric=range(2, 11))
    return (h2("3. Kết quả tiết kiệm", "Savings") + head
            + "<p><b>Theo dạng năng lượng</b> <span class='en'>/ By energy carrier</span></p>" + carriers)


def _method(r: dict[str, Any]) -> str:
    total = r["total"]
    vi, en = METHOD_LABEL.get(r.get("method", ""), (r.get("method"), r.get("method")))
    parts = [h2("4. Phương pháp", "Method"),
             f"<p><b>{esc(vi)}</b><br><span class='en'>{esc(en)}</span></p>"]
    if total.get("binding_estimate"):
        parts.append(f"<p>Ước tính được áp dụng <span class='en'>/ Estimate applied</span>: "
                     f"<b>{esc(total['binding_estimate'])}</b></p>")
    if total.get("fallback_reasons"):
        items = "".join(f"<li>{esc(x)}</li>" for x in total["fallback_reasons"])
        parts.append("<p>Lý do không dùng riêng mô hình hồi quy <span class='en'>/ Why the regression was not "
                     f"used on its own</span>:</p><ul>{items}</ul>")
    sec = total.get("sec") or {}
    unit = r.get("inputs", {}).get("production_unit", "")
    parts.append(kv([
        ("SEC kỳ cơ sở", "Baseline SEC", f"{num(sec.get('sec_baseline'), 6)} TOE/{esc(unit)}"),
        ("SEC kỳ báo cáo", "Reporting SEC", f"{num(sec.get('sec_reporting'), 6)} TOE/{esc(unit)}"),
        ("Tiết kiệm theo SEC", "Savings by SEC",
         f"{num(sec.get('savings_toe'), 3)} TOE ({pct(sec.get('savings_percent'))})"),
    ]))
    return "".join(parts)


def _model(r: dict[str, Any]) -> str:
    reg = r["total"].get("regression")
    if not reg:
        why = r["total"].get("regression_unavailable") or "—"
        return (h2("5. Thống kê mô hình", "Model statistics")
                + f"<p>Không xây dựng được mô hình hồi quy <span class='en'>/ No regression model could be fitted"
                  f"</span>: {esc(why)}</p>")
    coefficients = table(
        [("Biến", "Variable"), ("Hệ số", "Coefficient"), ("Sai số chuẩn", "Std. error"), ("p", None)],
        [[esc(v), num(c, 6), num(s, 6), num(p, 4)]
         for v, c, s, p in zip(reg["variables"], reg["coefficients"], reg["standard_errors"], reg["p_values"])],
        numeric=(1, 2, 3))
    checks = []
    for check in [*reg.get("checks", []), reg.get("uncertainty_check")]:
        if not check:
            continue
        label = _check_label(check["name"])
        status = ('<span class="pass">đạt / pass</span>' if check["passed"]
                  else '<span class="fail">không đạt / fail</span>')
        checks.append([esc(label), esc(check["message"]), status])
    u = reg.get("uncertainty") or {}
    stats = kv([
        ("Số điểm dữ liệu (n) / tham số (p)", "Points (n) / parameters (p)", f"{reg['n']} / {reg['parameters']}"),
        ("R² / R² hiệu chỉnh", "R² / adjusted R²",
         f"{num(reg.get('r_squared'), 4)} / {num(reg.get('adj_r_squared'), 4)}"),
        ("CV(RMSE)", "Coefficient of variation of the RMSE", frac_pct(reg.get("cv_rmse"))),
        ("NMBE", "Normalised mean bias error", frac_pct(reg.get("nmbe"), 3)),
        ("Thống kê F (p)", "F statistic (p-value)",
         f"{num(reg.get('f_statistic'), 2)} ({num(reg.get('f_p_value'), 4)})"),
        ("Đường cơ sở điều chỉnh theo mô hình", "Model adjusted baseline",
         f"{num(reg.get('adjusted_baseline_toe'), 3)} TOE"),
        ("Tiết kiệm theo mô hình", "Model savings",
         f"{num(reg.get('savings_toe'), 3)} TOE ({pct(reg.get('savings_percent'))})"),
        ("Độ bất định tiết kiệm", "Savings uncertainty",
         f"± {frac_pct(u.get('fsu'))} ({frac_pct(u.get('confidence'), 0)} tin cậy / confidence; "
         f"n′ = {num(u.get('effective_n'), 1)}, ρ = {num(u.get('residual_autocorrelation'), 3)})"),
    ])
    return (h2("5. Thống kê mô hình", "Model statistics") + stats + coefficients
            + "<p><b>Tiêu chí chấp nhận</b> <span class='en'>/ Acceptance criteria</span></p>"
            + table([("Tiêu chí", "Criterion"), ("Giá trị", "Value"), ("Kết quả", "Result")], checks))


def _norm(conclusion: Conclusion) -> str:
    norm = conclusion.norm or {}
    rows: list[tuple[str, str, str]] = [
        ("Ngành / sản phẩm", "Sector / product", esc(f"{norm.get('sector') or '—'} / {norm.get('product') or '—'}")),
        ("Ngày áp dụng", "Date judged", esc(norm.get("on") or "—")),
    ]
    status = norm.get("status")
    if status == "found":
        comparison = norm.get("comparison") or {}
        rows += [
            ("Định mức", "Norm", f"{num(norm.get('value'), 2)} {esc(norm.get('unit'))} — {esc(norm.get('circular'))}"
             + (f", {esc(norm.get('capacity_band'))}" if norm.get("capacity_band") else "")),
            ("SEC kỳ báo cáo theo đơn vị định mức", "Reporting SEC in the norm's unit",
             f"{num(comparison.get('reporting_sec'), 2)} {esc(norm.get('unit'))}"),
            ("Đánh giá", "Assessment",
             ('<span class="pass">trong định mức / within the norm</span>' if comparison.get("within_norm")
              else '<span class="fail">vượt định mức / above the norm</span>')
             + f" ({pct(comparison.get('margin_percent'))})"),
        ]
    else:
        label = "không so sánh được / not comparable" if status == "not_comparable" else "không có định mức / no norm"
        rows.append(("Kết quả", "Outcome", f"{esc(label)}: {esc(norm.get('reason') or '')}"))
    return h2("6. So sánh với định mức tiêu hao năng lượng", "Comparison with the sector norm") + kv(rows)


def _inputs(case: VerificationCase, r: dict[str, Any]) -> str:
    inputs = r.get("inputs", {})
    unit = inputs.get("production_unit", "")
    carriers = inputs.get("carriers", [])
    periods = inputs.get("periods", [])

    def rows(role: str) -> list[list[str]]:
        out = []
        for p in periods:
            if p.get("role") != role:
                continue
            source = p.get("source") or {}
            if role == "reporting":
                ref = f"{esc(source.get('measurement_id', '—'))} (rev. {esc(source.get('revision', '—'))})"
            else:
                ref = esc(source.get("registry_baseline_id") or "—")
            estimated = "ước tính / estimated" if source.get("estimated") else "đo / metered"
            energy = p.get("energy_toe", {})
            out.append([esc(p.get("start")), esc(p.get("end")), num(p.get("production"), 2),
                        *[num(energy.get(c), 3) for c in carriers], num(p.get("cdd"), 0), num(p.get("hdd"), 0),
                        esc(estimated), ref])
        return out

    headers: list[tuple[str, str | None]] = [
        ("Từ ngày", "From"), ("Đến ngày", "To"), (f"Sản lượng ({unit})", "Production"),
        *[(f"{c} (TOE)", None) for c in carriers], ("CDD", None), ("HDD", None), ("Số liệu", "Basis")]
    numeric = range(2, 5 + len(carriers))
    frozen = esc(local(case.baseline_frozen_at).strftime("%d/%m/%Y %H:%M")) if case.baseline_frozen_at else "—"
    return (h2("7. Số liệu đầu vào", "Inputs")
            + f"<p>Đường cơ sở được chốt từ hệ thống đăng ký cơ sở ngày {frozen} "
              f"<span class='en'>/ Baseline frozen from the facility registry on {frozen}</span>; "
              f"{inputs.get('baseline_period_count')} kỳ cơ sở / baseline periods, "
              f"{inputs.get('reporting_period_count')} kỳ báo cáo / reporting periods. "
              f"Biến thời tiết / weather variables: {esc(', '.join(inputs.get('weather_variables', [])) or '—')}.</p>"
            + "<p><b>Kỳ cơ sở</b> <span class='en'>/ Baseline periods</span></p>"
            + table([*headers, ("Mã kỳ cơ sở (registry)", "Registry baseline id")], rows("baseline"), numeric)
            + "<p><b>Kỳ báo cáo (số liệu đo của chuyên gia thẩm tra)</b> <span class='en'>/ Reporting periods "
              "(the verifier's measurements)</span></p>"
            + table([*headers, ("Mã số đo (lần sửa)", "Measurement id (revision)")], rows("reporting"), numeric))


def _factors(r: dict[str, Any]) -> str:
    rows = [[esc(f["carrier"]), num(f["factor"], 4), esc(f["unit"]), num(f["t_co2_per_toe"], 4),
             esc(f.get("year") or "—"), esc(f.get("note") or "")] for f in r.get("emission_factors", [])]
    return (h2("8. Hệ số quy đổi và phát thải", "Conversion and emission factors")
            + "<p>Quy đổi năng lượng theo Công văn 3505/BCT-KHCN (1 TOE = 41,868 GJ); hệ số phát thải lưới điện "
              "theo công bố của Cục Biến đổi khí hậu, nhiên liệu theo IPCC 2006. <span class='en'>/ Energy "
              "conversion per MOIT letter 3505/BCT-KHCN; grid factor per DCC announcements; fuels per IPCC 2006."
              "</span></p>"
            + table([("Dạng năng lượng", "Carrier"), ("Hệ số", "Factor"), ("Đơn vị", "Unit"), ("tCO₂/TOE", None),
                     ("Năm", "Year"), ("Ghi chú", "Note")], rows, numeric=(1, 3)))


def _review(conclusion: Conclusion, r: dict[str, Any]) -> str:
    warnings = "".join(f'<div class="warn">{esc(w)}</div>' for w in r.get("warnings", [])) or "<p>—</p>"
    note = esc(conclusion.review_note) if conclusion.review_note else "—"
    needed = "có / yes" if conclusion.requires_review else "không / no"
    return (h2("9. Cảnh báo và ý kiến của chuyên gia thẩm tra", "Warnings and the verifier's review")
            + f"<p>Cần xem xét <span class='en'>/ Review required</span>: <b>{needed}</b></p>" + warnings
            + kv([("Ý kiến xem xét", "Review note", note)]))


def _signatures(case: VerificationCase, conclusion: Conclusion) -> str:
    when = local(conclusion.concluded_at)
    verifier = esc(conclusion.concluded_by_name or conclusion.concluded_by_subject)
    date_line = f"Hà Nội, ngày {when.day:02d} tháng {when.month:02d} năm {when.year}"
    return (h2("10. Xác nhận", "Signatures")
            + f"<p style='text-align:right'><i>{esc(date_line)}</i></p>"
            + '<div class="sign">'
            + f"<div><p><b>CHUYÊN GIA THẨM TRA</b></p><p class='en'>Verifier</p><p><i>(Ký, ghi rõ họ tên / "
              f"signature, full name)</i></p><br><br><br><p>{verifier}</p></div>"
            + "<div><p><b>CÁN BỘ PHỤ TRÁCH CHƯƠNG TRÌNH</b></p><p class='en'>Programme officer</p><p><i>(Ký, ghi rõ "
              "họ tên / signature, full name)</i></p></div>"
            + f"<div><p><b>ĐẠI DIỆN DOANH NGHIỆP</b></p><p class='en'>For the enterprise</p><p><i>(Ký, đóng dấu / "
              f"signature, seal)</i></p><br><br><br><p>{esc(case.enterprise_name or '')}</p></div>"
            + "</div>")


def render_report(case: VerificationCase, conclusion: Conclusion, *, agency_vi: str, agency_en: str) -> str:
    r = conclusion.result
    when = local(conclusion.concluded_at).strftime("%d/%m/%Y %H:%M")
    title_vi = "BÁO CÁO THẨM TRA KẾT QUẢ TIẾT KIỆM NĂNG LƯỢNG"
    title_en = "Verification report on the energy savings of a cleaner-production project"
    body = "".join([
        f'<div class="agency">{esc(agency_vi)}<small>{esc(agency_en)}</small></div>',
        f"<h1>{esc(title_vi)}<small>{esc(title_en)}</small></h1>",
        f'<p class="meta">Mã hồ sơ / Dossier {esc(case.dossier_code or "—")} · Kết luận lúc / Concluded '
        f"{esc(when)} (giờ Hà Nội / Hanoi time) · Số liệu: dấu phẩy thập phân / figures use a decimal comma</p>",
        _general(case), _verdict(conclusion, r), _savings(r), _method(r), _model(r), _norm(conclusion),
        _inputs(case, r), _factors(r), _review(conclusion, r), _signatures(case, conclusion),
    ])
    return (f'<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>{esc(title_vi)} — '
            f"{esc(case.dossier_code or case.id)}</title><style>{CSS}</style></head><body>{body}</body></html>")
