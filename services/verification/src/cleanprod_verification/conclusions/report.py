"""The printable verification report: a document an officer files. One self-contained HTML page (inline CSS,
no scripts) in one language — Vietnamese (the default) or English — laid out for A4 by CSS paged media:
`@page { size: A4 }` with the dossier code and "Trang n/N" in the page margins (Chromium prints margin boxes
since version 131; Debian's 156 does), the verdict block kept on one page, tables that fit the page width.

Codes become labels (sector name from the registry, carriers, methods, criteria), the computation's English
explanations are rebuilt from its figures in the report's language (`report_text`), figures use the
language's decimal mark (1.234,56 in Vietnamese), dates read dd/mm/yyyy, people are named by their full
names as captured from their token at assignment and conclusion (family name first), each reporting period
lists the evidence its revision cites, and the savings uncertainty is given once, with its confidence."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cleanprod_kit.local_time import local

from ..cases.models import VerificationCase
from .models import Conclusion
from .report_text import (
    CARRIERS,
    ESTIMATES,
    METHOD_WHY,
    METHODS,
    PRODUCTS,
    UNITS,
    VARIABLES,
    criterion_name,
    criterion_sentence,
    date,
    fallback_reasons,
    fraction_percent,
    label,
    number,
    percent,
    pick,
    verdict_reasons,
    warning,
)

VERDICT = {"verified": ("ĐẠT", "VERIFIED"), "not_achieved": ("KHÔNG ĐẠT", "NOT ACHIEVED")}

CSS = """
@page{size:A4;margin:2cm 1.8cm 2.2cm 2.2cm;
 @top-right{content:"@dossier_label@ " "@dossier@";font:9pt "Times New Roman",Times,serif;color:#444}
 @bottom-right{content:"@page_word@ " counter(page) "/" counter(pages);font:9pt "Times New Roman",Times,serif}
 @bottom-left{content:"@footer@";font:9pt "Times New Roman",Times,serif;color:#444}}
body{font-family:"Times New Roman",Times,serif;font-size:12pt;color:#111;line-height:1.35;margin:0 auto;max-width:17cm}
@media screen{body{margin:2cm auto}}
h1{font-size:15pt;text-align:center;margin:.6em 0 .1em}
h2{font-size:12.5pt;border-bottom:1px solid #444;margin:1.2em 0 .4em;padding-bottom:2px;break-after:avoid}
.agency{text-align:center;font-weight:bold;text-transform:uppercase}
.meta{text-align:center;font-size:10pt;color:#444}
table{border-collapse:collapse;width:100%;margin:.3em 0 .6em;font-size:10pt;table-layout:fixed}
thead{display:table-header-group}
th,td{border:1px solid #999;padding:2px 4px;vertical-align:top;text-align:left;overflow-wrap:anywhere}
table.wide{font-size:8.5pt}
table.evidence th:first-child{width:17%}table.evidence th:last-child{width:32%}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.kv th{width:40%;background:#f3f3f3}
tr{break-inside:avoid}
.verdict-block{break-inside:avoid}
.verdict{font-size:14pt;font-weight:bold;padding:.3em .8em;border:2px solid;display:inline-block;margin:.3em 0}
.ok{color:#0a5d1e;border-color:#0a5d1e}.no{color:#8a1010;border-color:#8a1010}
.pass{color:#0a5d1e}.fail{color:#8a1010}
.warn{background:#fff6dc;border:1px solid #d9b650;padding:.3em .8em;margin:.3em 0}
.right{text-align:right}
.sign{display:flex;justify-content:space-between;gap:1em;margin-top:1em;break-inside:avoid}
.sign div{flex:1;text-align:center;min-height:4.5cm}.sign div p{margin:.2em 0}
"""


@dataclass
class ReportPeople:
    """Who appears on the report, by full name (captured from their tokens)."""

    verifier: str | None = None
    officer: str | None = None


@dataclass
class ReportContext:
    """What the report needs besides the case and the conclusion."""

    language: str = "vi"
    sector_name: str | None = None
    people: ReportPeople = field(default_factory=ReportPeople)
    evidence: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)  # (measurement id, rev) → evidence
    # the case's corrections (read by the view): adjustment id → its record (evidence, who decided), the withdrawn
    # periods, the confirmed re-freezes with the figures on the old and the new baseline
    adjustments: dict[str, dict[str, Any]] = field(default_factory=dict)
    withdrawals: list[dict[str, Any]] = field(default_factory=list)
    refreezes: list[dict[str, Any]] = field(default_factory=list)


class _Writer:
    def __init__(self, language: str) -> None:
        self.lang = language

    def t(self, vi: str, en: str) -> str:
        return html.escape(vi if self.lang == "vi" else en)

    def num(self, value: Any, digits: int = 2) -> str:
        return html.escape(number(value, digits, self.lang))

    def pct(self, value: Any, digits: int = 2) -> str:
        return html.escape(percent(value, digits, self.lang))

    def fpct(self, value: Any, digits: int = 2) -> str:
        return html.escape(fraction_percent(value, digits, self.lang))

    def carrier(self, code: str | None) -> str:
        return html.escape(label(CARRIERS, code, self.lang))

    def unit(self, code: str | None) -> str:
        return html.escape(label(UNITS, code, self.lang)) if code else ""

    def h2(self, vi: str, en: str) -> str:
        return f"<h2>{self.t(vi, en)}</h2>"

    def kv(self, rows: Iterable[tuple[str, str, str]]) -> str:
        """(Vietnamese label, English label, already-escaped value)."""
        body = "".join(f"<tr><th>{self.t(vi, en)}</th><td>{value}</td></tr>" for vi, en, value in rows)
        return f'<table class="kv">{body}</table>'

    def table(
        self,
        headers: Sequence[tuple[str, str]],
        rows: Iterable[Sequence[str]],
        numeric: Iterable[int] = (),
        wide: bool = False,
        css: str = "",
    ) -> str:
        numeric = set(numeric)
        head = "".join(f"<th>{self.t(vi, en)}</th>" for vi, en in headers)
        body = "".join(
            "<tr>"
            + "".join(f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(row))
            + "</tr>"
            for row in rows
        )
        classes = " ".join(c for c in ("wide" if wide else "", css) if c)
        css = f' class="{classes}"' if classes else ""
        return f"<table{css}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _general(w: _Writer, case: VerificationCase, ctx: ReportContext) -> str:
    supplier = " — ".join(x for x in (case.supplier_name, case.supplier_tax_code) if x) or "—"
    place = ", ".join(x for x in (case.ward, case.district) if x) or "—"
    capacity = (
        f"{w.num(case.capacity_quantity, 0)} {w.unit(case.capacity_unit)}"
        if case.capacity_quantity is not None
        else "—"
    )
    sector = ctx.sector_name or case.sector_code or "—"
    return w.h2("1. Thông tin chung", "1. General information") + w.kv(
        [
            ("Mã hồ sơ", "Dossier code", esc(case.dossier_code or "—")),
            ("Dự án", "Project", esc(case.project_title or "—")),
            ("Doanh nghiệp", "Enterprise", esc(case.enterprise_name or "—")),
            ("Mã số doanh nghiệp", "Tax code", esc(case.enterprise_tax_code or "—")),
            ("Cơ sở sản xuất", "Facility", esc(case.facility_name or "—")),
            ("Ngành", "Sector", esc(sector)),
            ("Sản phẩm", "Products", esc(", ".join(label(PRODUCTS, p, w.lang) for p in case.products) or "—")),
            ("Công suất", "Capacity", capacity),
            ("Xã/phường, quận/huyện", "Ward, district", esc(place)),
            ("Nhà cung cấp công nghệ", "Technology supplier", esc(supplier)),
            (
                "Thời gian thực hiện",
                "Implementation",
                f"{esc(date(case.implementation_start))} – {esc(date(case.implementation_end))}",
            ),
            ("Ngày hoàn thành", "Completed on", esc(date(case.completed_on))),
            (
                "Kinh phí hỗ trợ được duyệt",
                "Approved support",
                f"{w.num(case.approved_support_vnd, 0)} {w.t('đồng', 'VND')}"
                if case.approved_support_vnd is not None
                else "—",
            ),
            ("Chuyên gia thẩm tra", "Verifier", esc(ctx.people.verifier or "—")),
        ]
    )


def _verdict(w: _Writer, conclusion: Conclusion, r: dict[str, Any]) -> str:
    vi, en = VERDICT.get(conclusion.verdict, (conclusion.verdict, conclusion.verdict))
    css = "ok" if conclusion.verdict == "verified" else "no"
    reasons = "".join(f"<li>{esc(x)}</li>" for x in verdict_reasons(r, w.lang))
    return (
        '<section class="verdict-block">'
        + w.h2("2. Kết luận thẩm tra", "2. Verdict")
        + f'<div class="verdict {css}">{w.t(vi, en)}</div>'
        + w.kv(
            [
                ("Mức tiết kiệm đăng ký", "Claimed savings", w.pct(r.get("claimed_percent"))),
                ("Mức tiết kiệm được thẩm tra", "Verified savings", w.pct(r.get("verified_savings_percent"))),
                (
                    "Tỷ lệ đạt (thẩm tra / đăng ký)",
                    "Achieved ratio (verified / claimed)",
                    w.num(r.get("achieved_ratio"), 4),
                ),
                ("Mục tiêu chương trình", "Programme target", w.pct(r.get("programme_target_percent"), 1)),
            ]
        )
        + f"<p><b>{w.t('Căn cứ kết luận', 'Grounds')}</b></p><ul>{reasons}</ul></section>"
    )


def _savings(w: _Writer, r: dict[str, Any], ctx: ReportContext) -> str:
    total = r["total"]
    head = w.kv(
        [
            (
                "Năng lượng tiết kiệm",
                "Energy saved",
                f"{w.num(r.get('savings_toe'), 3)} TOE ({w.num(r.get('savings_gj'), 1)} GJ)",
            ),
            ("Giảm phát thải CO₂", "CO₂ avoided", f"{w.num(r.get('savings_tco2'), 2)} {w.t('tấn', 't')}"),
            ("Tỷ lệ tiết kiệm", "Savings", w.pct(r.get("verified_savings_percent"))),
            ("Đường cơ sở điều chỉnh", "Adjusted baseline", f"{w.num(total.get('adjusted_baseline_toe'), 3)} TOE"),
            (
                "Tiêu thụ thực tế kỳ báo cáo",
                "Actual use, reporting periods",
                f"{w.num(total.get('reporting_energy_toe'), 3)} TOE",
            ),
            ("Tiêu thụ kỳ cơ sở", "Use in the baseline periods", f"{w.num(total.get('baseline_energy_toe'), 3)} TOE"),
        ]
    )
    rows = [
        [
            w.carrier(c["carrier"]),
            esc(label(METHODS, c["method"], w.lang).split(" (")[0].split(":")[0]),
            w.num(c["adjusted_baseline_toe"], 3),
            w.num(c["reporting_energy_toe"], 3),
            w.num(c["savings_toe"], 3),
            w.num(c["savings_tco2"], 2),
            w.pct(c.get("savings_percent")),
            w.pct(c.get("claimed_percent")),
        ]
        for c in r.get("carriers", [])
    ]
    carriers = w.table(
        [
            ("Dạng năng lượng", "Carrier"),
            ("Phương pháp", "Method"),
            ("Cơ sở điều chỉnh (TOE)", "Adjusted baseline (TOE)"),
            ("Thực tế (TOE)", "Actual (TOE)"),
            ("Tiết kiệm (TOE)", "Saved (TOE)"),
            ("CO₂ (tấn)", "CO₂ (t)"),
            ("Tỷ lệ", "Savings"),
            ("Đăng ký", "Claimed"),
        ],
        rows,
        numeric=range(2, 8),
        wide=True,
    )
    return (
        w.h2("3. Kết quả tiết kiệm", "3. Savings")
        + head
        + f"<p><b>{w.t('Theo dạng năng lượng', 'By energy carrier')}</b></p>"
        + carriers
        + _adjustments(w, r, ctx)
    )


def _adjustments(w: _Writer, r: dict[str, Any], ctx: ReportContext) -> str:
    """The non-routine adjustments applied (IPMVP), each with its reason, evidence and approval, and the figures
    with and without them side by side. Nothing when none was approved."""
    applied = r.get("non_routine_adjustments") or []
    unadjusted = r["total"].get("unadjusted")
    if not applied or not unadjusted:
        return ""
    rows = []
    for a in applied:
        record = ctx.adjustments.get(str(a.get("reference")), {})
        approval = ", ".join(x for x in (record.get("decided_by_name"), record.get("decision_note")) if x) or "—"
        rows.append(
            [
                w.carrier(a.get("carrier")),
                w.num(a.get("amount_toe"), 3),
                esc(a.get("reason")),
                _evidence_text(w, record.get("evidence")),
                esc(approval),
            ]
        )
    total = r["total"]
    both = w.table(
        [("", ""), ("Không điều chỉnh", "Unadjusted"), ("Có điều chỉnh", "Adjusted")],
        [
            [
                w.t("Đường cơ sở điều chỉnh (TOE)", "Adjusted baseline (TOE)"),
                w.num(unadjusted.get("adjusted_baseline_toe"), 3),
                w.num(total.get("adjusted_baseline_toe"), 3),
            ],
            [
                w.t("Tiết kiệm (TOE)", "Savings (TOE)"),
                w.num(unadjusted.get("savings_toe"), 3),
                w.num(total.get("savings_toe"), 3),
            ],
            [
                w.t("Tỷ lệ tiết kiệm", "Savings"),
                w.pct(unadjusted.get("savings_percent")),
                w.pct(total.get("savings_percent")),
            ],
            [
                w.t("Giảm phát thải CO₂ (tấn)", "CO₂ avoided (t)"),
                w.num(unadjusted.get("savings_tco2"), 2),
                w.num(total.get("savings_tco2"), 2),
            ],
        ],
        numeric=(1, 2),
    )
    return (
        f"<p><b>{w.t('Điều chỉnh bất thường (IPMVP) đã được duyệt', 'Non-routine adjustments approved (IPMVP)')}</b></p>"
        + w.table(
            [
                ("Dạng năng lượng", "Carrier"),
                ("TOE", "TOE"),
                ("Lý do", "Reason"),
                ("Chứng cứ", "Evidence"),
                ("Người duyệt", "Approved by"),
            ],
            rows,
            numeric=(1,),
            css="evidence",
        )
        + both
    )


MODEL_FORMS = {
    "production": ("Theo sản lượng: E = a + b·P", "Production: E = a + b·P"),
    "weather": ("Theo thời tiết: E = a + c·CDD + d·HDD", "Weather: E = a + c·CDD + d·HDD"),
    "production_weather": (
        "Theo sản lượng và thời tiết: E = a + b·P + c·CDD + d·HDD",
        "Production and weather: E = a + b·P + c·CDD + d·HDD",
    ),
}
INTERVALS = {"daily": ("theo ngày", "daily"), "monthly": ("theo tháng", "monthly"), "other": ("khác", "other")}


def _plan(w: _Writer, r: dict[str, Any]) -> str:
    """The M&V plan the figures followed: the model, its degree-day basis (unit and base temperatures), the data
    interval and G14's correction for it, and any normalisation the fit had to drop."""
    model = r.get("model")
    if not model:
        return ""
    form = model.get("form")
    shape = (
        pick(MODEL_FORMS[form], w.lang)
        if form in MODEL_FORMS
        else w.t("Theo sản lượng (và số độ-ngày nếu có)", "Production (and degree-days where given)")
    )
    unit = "°F" if model.get("degree_day_unit") == "F" else "°C"

    def base(value: Any) -> str:
        return f"{w.num(value, 1)} {unit}" if value is not None else "—"

    def names(codes: list[str] | None) -> str:
        return ", ".join(esc(label(VARIABLES, v, w.lang)) for v in codes or []) or "—"

    uncertainty = ((r["total"].get("regression") or {}).get("uncertainty")) or {}
    interval = pick(INTERVALS.get(model.get("interval"), (model.get("interval"), model.get("interval"))), w.lang)
    if uncertainty.get("correction_factor") is not None:
        interval += f" ({w.t('hệ số hiệu chỉnh G14', 'G14 correction')} {w.num(uncertainty['correction_factor'], 3)})"
    rows = [
        ("Mô hình đường cơ sở", "Baseline model", esc(shape)),
        ("Đơn vị số độ-ngày", "Degree-day unit", esc(f"{unit}·{w.t('ngày', 'day')}")),
        (
            "Nhiệt độ gốc CDD / HDD",
            "CDD / HDD base temperature",
            f"{base(model.get('cdd_base'))} / {base(model.get('hdd_base'))}",
        ),
        ("Trạm khí tượng", "Weather station", esc(model.get("station") or "—")),
        ("Chu kỳ số liệu", "Data interval", interval),
        ("Biến cần chuẩn hóa", "Variables to normalise for", names(model.get("requested_variables"))),
        ("Biến đã dùng", "Variables used", names(model.get("variables_used"))),
    ]
    dropped = r.get("normalisation_dropped") or []
    if dropped:
        rows.append(("Chuẩn hóa bị bỏ", "Normalisation dropped", f'<span class="fail">{names(dropped)}</span>'))
    return (
        f"<p><b>{w.t('Kế hoạch đo lường và thẩm tra (M&V)', 'Measurement and verification (M&V) plan')}</b></p>"
        + w.kv(rows)
    )


def _method(w: _Writer, r: dict[str, Any]) -> str:
    total = r["total"]
    method = r.get("method", "")
    parts = [
        w.h2("4. Phương pháp", "4. Method"),
        _plan(w, r),
        f"<p><b>{esc(label(METHODS, method, w.lang))}</b></p>",
    ]
    if method in METHOD_WHY:
        parts.append(f"<p>{esc(pick(METHOD_WHY[method], w.lang))}</p>")
    if total.get("binding_estimate"):
        parts.append(
            f"<p>{w.t('Ước tính được áp dụng', 'Estimate applied')}: "
            f"<b>{esc(label(ESTIMATES, total['binding_estimate'], w.lang))}</b></p>"
        )
    reasons = fallback_reasons(r, w.lang)
    if reasons:
        items = "".join(f"<li>{esc(x)}</li>" for x in reasons)
        parts.append(
            f"<p>{w.t('Lý do không dùng riêng mô hình hồi quy', 'Why the regression was not used alone')}"
            f":</p><ul>{items}</ul>"
        )
    sec = total.get("sec") or {}
    per = f"TOE/{w.unit(r.get('inputs', {}).get('production_unit', ''))}"
    parts.append(
        w.kv(
            [
                ("Suất tiêu hao kỳ cơ sở", "Baseline SEC", f"{w.num(sec.get('sec_baseline'), 6)} {per}"),
                ("Suất tiêu hao kỳ báo cáo", "Reporting SEC", f"{w.num(sec.get('sec_reporting'), 6)} {per}"),
                (
                    "Tiết kiệm theo suất tiêu hao",
                    "Savings by SEC",
                    f"{w.num(sec.get('savings_toe'), 3)} TOE ({w.pct(sec.get('savings_percent'))})",
                ),
            ]
        )
    )
    return "".join(parts)


def _model(w: _Writer, r: dict[str, Any]) -> str:
    reg = r["total"].get("regression")
    heading = w.h2("5. Thống kê mô hình", "5. Model statistics")
    if not reg:
        return (
            heading
            + f"<p>{w.t('Không xây dựng được mô hình hồi quy từ số liệu đường cơ sở.', 'No regression model could be fitted to the baseline data.')}</p>"
        )
    coefficients = w.table(
        [("Biến", "Variable"), ("Hệ số", "Coefficient"), ("Sai số chuẩn", "Standard error"), ("Giá trị p", "p-value")],
        [
            [esc(label(VARIABLES, v, w.lang)), w.num(c, 6), w.num(s, 6), w.num(p, 4)]
            for v, c, s, p in zip(
                reg["variables"], reg["coefficients"], reg["standard_errors"], reg["p_values"], strict=False
            )
        ],
        numeric=(1, 2, 3),
    )
    checks = []
    for check in [*reg.get("checks", []), reg.get("uncertainty_check")]:
        if not check:
            continue
        status = (
            f'<span class="pass">{w.t("đạt", "met")}</span>'
            if check["passed"]
            else f'<span class="fail">{w.t("không đạt", "not met")}</span>'
        )
        checks.append([esc(criterion_name(check["name"], w.lang)), esc(criterion_sentence(check, w.lang)), status])
    u = reg.get("uncertainty") or {}
    uncertainty = (
        (
            w.t("± ", "± ")
            + w.fpct(u.get("fsu"), 1)
            + " "
            + w.t("ở độ tin cậy ", "at ")
            + w.fpct(u.get("confidence"), 0)
            + w.t("", " confidence")
        )
        if u.get("fsu") is not None
        else "—"
    )
    stats = w.kv(
        [
            ("Số điểm dữ liệu / số tham số", "Data points / parameters", f"{reg['n']} / {reg['parameters']}"),
            (
                "R² / R² hiệu chỉnh",
                "R² / adjusted R²",
                f"{w.num(reg.get('r_squared'), 4)} / {w.num(reg.get('adj_r_squared'), 4)}",
            ),
            ("CV(RMSE)", "CV(RMSE)", w.fpct(reg.get("cv_rmse"))),
            ("NMBE", "NMBE", w.fpct(reg.get("nmbe"), 3)),
            (
                "Tiết kiệm theo mô hình",
                "Savings by the model",
                f"{w.num(reg.get('savings_toe'), 3)} TOE ({w.pct(reg.get('savings_percent'))})",
            ),
            ("Độ bất định của tiết kiệm", "Savings uncertainty", uncertainty),
        ]
    )
    return (
        heading
        + stats
        + coefficients
        + f"<p><b>{w.t('Tiêu chí chấp nhận', 'Acceptance criteria')}</b></p>"
        + w.table(
            [("Tiêu chí", "Criterion"), ("Giá trị và yêu cầu", "Value and requirement"), ("Kết quả", "Result")], checks
        )
    )


def _norm(w: _Writer, conclusion: Conclusion, ctx: ReportContext, case: VerificationCase) -> str:
    norm = conclusion.norm or {}
    sector = ctx.sector_name or norm.get("sector") or "—"
    rows: list[tuple[str, str, str]] = [
        (
            "Ngành / sản phẩm",
            "Sector / product",
            f"{esc(sector)} / {esc(label(PRODUCTS, norm.get('product'), w.lang))}",
        ),
        ("Ngày áp dụng", "Date judged", esc(date(norm.get("on")))),
    ]
    status = norm.get("status")
    if status == "found":
        comparison = norm.get("comparison") or {}
        rows += [
            (
                "Định mức",
                "Norm",
                f"{w.num(norm.get('value'), 2)} {esc(norm.get('unit'))} — {esc(norm.get('circular'))}"
                + (f", {esc(norm.get('capacity_band'))}" if norm.get("capacity_band") else ""),
            ),
            (
                "Suất tiêu hao kỳ báo cáo theo đơn vị định mức",
                "Reporting SEC in the norm's unit",
                f"{w.num(comparison.get('reporting_sec'), 2)} {esc(norm.get('unit'))}",
            ),
            (
                "Đánh giá",
                "Assessment",
                (
                    f'<span class="pass">{w.t("trong định mức", "within the norm")}</span>'
                    if comparison.get("within_norm")
                    else f'<span class="fail">{w.t("vượt định mức", "above the norm")}</span>'
                )
                + f" ({w.pct(comparison.get('margin_percent'))})",
            ),
        ]
    elif status == "not_comparable":
        rows.append(
            (
                "Kết quả",
                "Outcome",
                w.t(
                    "Không so sánh được: định mức tính theo đơn vị sản phẩm khác với sản lượng của cơ sở.",
                    "Not comparable: the norm is per another kind of product unit than the facility's production.",
                ),
            )
        )
    else:
        rows.append(
            (
                "Kết quả",
                "Outcome",
                w.t(
                    "Không áp dụng: không có định mức tiêu hao năng lượng cho ngành và sản phẩm này tại ngày trên.",
                    "No energy consumption norm applies to this sector and product on that date.",
                ),
            )
        )
    return w.h2("6. So sánh với định mức tiêu hao năng lượng", "6. Comparison with the sector norm") + w.kv(rows)


def _evidence_text(w: _Writer, evidence: dict[str, Any] | None) -> str:
    if not evidence:
        return "—"
    parts = [esc(evidence.get("description") or "")]
    if evidence.get("document_id"):
        parts.append(f"{w.t('tài liệu', 'document')} {esc(evidence['document_id'])}")
    if evidence.get("url"):
        parts.append(esc(evidence["url"]))
    return "; ".join(p for p in parts if p)


def _inputs(w: _Writer, case: VerificationCase, r: dict[str, Any], ctx: ReportContext) -> str:
    inputs = r.get("inputs", {})
    unit = w.unit(inputs.get("production_unit", ""))
    carriers = inputs.get("carriers", [])
    periods = inputs.get("periods", [])
    weather = any(p.get("cdd") is not None for p in periods)

    def rows(role: str) -> list[list[str]]:
        out = []
        for p in periods:
            if p.get("role") != role:
                continue
            source = p.get("source") or {}
            energy = p.get("energy_toe", {})
            basis = w.t("ước tính", "estimated") if source.get("estimated") else w.t("đo", "metered")
            row = [
                f"{esc(date(p.get('start')))} – {esc(date(p.get('end')))}",
                w.num(p.get("production"), 2),
                *[w.num(energy.get(c), 3) for c in carriers],
                *([w.num(p.get("cdd"), 0)] if weather else []),
                basis,
            ]
            if role == "reporting":
                key = (str(source.get("measurement_id")), int(source.get("revision") or 0))
                row.append(
                    f"{_evidence_text(w, ctx.evidence.get(key))} ({w.t('số đo', 'measurement')} "
                    f"{esc(source.get('measurement_id', '—'))}, {w.t('lần ghi', 'revision')} "
                    f"{esc(source.get('revision', '—'))})"
                )
            out.append(row)
        return out

    headers = [
        ("Kỳ", "Period"),
        (f"Sản lượng ({unit})", f"Production ({unit})"),
        *[(f"{label(CARRIERS, c, 'vi')} (TOE)", f"{label(CARRIERS, c, 'en')} (TOE)") for c in carriers],
        *([("CDD", "CDD")] if weather else []),
        ("Số liệu", "Basis"),
    ]
    numeric = range(1, 2 + len(carriers) + (1 if weather else 0))
    frozen = esc(local(case.baseline_frozen_at).strftime("%d/%m/%Y")) if case.baseline_frozen_at else "—"
    counts = (inputs.get("baseline_period_count"), inputs.get("reporting_period_count"))
    intro = w.t(
        f"Đường cơ sở được chốt từ hệ thống đăng ký cơ sở ngày {frozen}: {counts[0]} kỳ cơ sở, "
        f"{counts[1]} kỳ báo cáo do chuyên gia thẩm tra đo.",
        f"Baseline frozen from the facility registry on {frozen}: {counts[0]} baseline periods, "
        f"{counts[1]} reporting periods measured by the verifier.",
    )
    return (
        w.h2("7. Số liệu đầu vào", "7. Inputs")
        + f"<p>{intro}</p>"
        + f"<p><b>{w.t('Kỳ cơ sở', 'Baseline periods')}</b></p>"
        + w.table(headers, rows("baseline"), numeric, wide=True, css="evidence")
        + f"<p><b>{w.t('Kỳ báo cáo và chứng cứ', 'Reporting periods and their evidence')}</b></p>"
        + w.table([*headers, ("Chứng cứ", "Evidence")], rows("reporting"), numeric, wide=True, css="evidence")
        + _corrections(w, ctx)
    )


def _corrections(w: _Writer, ctx: ReportContext) -> str:
    """The periods withdrawn (left out of the figures above, with why) and the baseline re-freezes, each with the
    figures on the old baseline kept beside those on the new one."""
    parts = []
    if ctx.withdrawals:
        parts.append(f"<p><b>{w.t('Kỳ báo cáo đã rút', 'Reporting periods withdrawn')}</b></p>")
        parts.append(
            w.table(
                [("Kỳ", "Period"), ("Lý do", "Reason"), ("Người rút", "Withdrawn by")],
                [
                    [
                        f"{esc(date(x.get('start')))} – {esc(date(x.get('end')))}",
                        esc(x.get("reason")),
                        f"{esc(x.get('by') or '—')}, {esc(date(x.get('on')))}",
                    ]
                    for x in ctx.withdrawals
                ],
                css="evidence",
            )
        )
    for x in ctx.refreezes:
        old, new = x.get("old_result") or {}, x.get("new_result") or {}
        who = w.t(
            f"Đề xuất: {x.get('requested_by') or '—'}; xác nhận: {x.get('confirmed_by') or '—'}, {date(x.get('on'))}.",
            f"Proposed by {x.get('requested_by') or '—'}; confirmed by {x.get('confirmed_by') or '—'} on "
            f"{date(x.get('on'))}.",
        )
        parts.append(
            f"<p><b>{w.t('Chốt lại đường cơ sở:', 'Baseline re-frozen:')}</b> {esc(x.get('reason'))}<br>{who}</p>"
        )
        parts.append(
            w.table(
                [("", ""), ("Đường cơ sở cũ", "Old baseline"), ("Đường cơ sở mới", "New baseline")],
                [
                    [
                        w.t("Số kỳ cơ sở", "Baseline periods"),
                        esc(old.get("baseline_periods")),
                        esc(new.get("baseline_periods")),
                    ],
                    [
                        w.t("Mức tiết kiệm được thẩm tra", "Verified savings"),
                        w.pct(old.get("verified_savings_pct")),
                        w.pct(new.get("verified_savings_pct")),
                    ],
                    [
                        w.t("Tiết kiệm (TOE)", "Savings (TOE)"),
                        w.num(old.get("savings_toe"), 3),
                        w.num(new.get("savings_toe"), 3),
                    ],
                    [
                        w.t("Đường cơ sở điều chỉnh (TOE)", "Adjusted baseline (TOE)"),
                        w.num(old.get("adjusted_baseline_toe"), 3),
                        w.num(new.get("adjusted_baseline_toe"), 3),
                    ],
                    [
                        w.t("Kết luận", "Verdict"),
                        w.t(*VERDICT.get(old.get("verdict") or "", ("—", "—"))),
                        w.t(*VERDICT.get(new.get("verdict") or "", ("—", "—"))),
                    ],
                ],
                numeric=(1, 2),
            )
        )
    return "".join(parts)


def _factors(w: _Writer, r: dict[str, Any]) -> str:
    def source(f: dict[str, Any]) -> str:
        if f["carrier"] == "electricity":
            return w.t("Cục Biến đổi khí hậu", "Department of Climate Change")
        return "IPCC 2006"

    rows = [
        [
            w.carrier(f["carrier"]),
            w.num(f["factor"], 4),
            esc(f["unit"]),
            w.num(f["t_co2_per_toe"], 4),
            esc(f.get("year") or "—"),
            source(f),
        ]
        for f in r.get("emission_factors", [])
    ]
    return (
        w.h2("8. Hệ số quy đổi và phát thải", "8. Conversion and emission factors")
        + "<p>"
        + w.t(
            "Quy đổi năng lượng theo Công văn 3505/BCT-KHCN (1 TOE = 41,868 GJ); hệ số phát thải lưới "
            "điện theo công bố của Cục Biến đổi khí hậu, nhiên liệu theo IPCC 2006.",
            "Energy conversion per MOIT letter 3505/BCT-KHCN (1 TOE = 41.868 GJ); grid emission "
            "factor per the Department of Climate Change; fuels per IPCC 2006.",
        )
        + "</p>"
        + w.table(
            [
                ("Dạng năng lượng", "Carrier"),
                ("Hệ số", "Factor"),
                ("Đơn vị", "Unit"),
                ("tCO₂/TOE", "tCO₂/TOE"),
                ("Năm", "Year"),
                ("Nguồn", "Source"),
            ],
            rows,
            numeric=(1, 3),
        )
    )


def _review(w: _Writer, conclusion: Conclusion, r: dict[str, Any]) -> str:
    warnings = "".join(f'<div class="warn">{esc(warning(x, w.lang))}</div>' for x in r.get("warnings", []))
    note = esc(conclusion.review_note) if conclusion.review_note else "—"
    needed = w.t("có", "yes") if conclusion.requires_review else w.t("không", "no")
    return (
        w.h2("9. Cảnh báo và ý kiến của chuyên gia thẩm tra", "9. Warnings and the verifier's review")
        + f"<p>{w.t('Cần xem xét', 'Review required')}: <b>{needed}</b></p>"
        + (warnings or "")
        + w.kv([("Ý kiến xem xét", "Review note", note)])
    )


def _signatures(w: _Writer, case: VerificationCase, conclusion: Conclusion, ctx: ReportContext) -> str:
    when = local(conclusion.concluded_at)
    date_line = w.t(f"Hà Nội, ngày {when.day:02d} tháng {when.month:02d} năm {when.year}", f"Hanoi, {when:%d/%m/%Y}")
    sign = w.t("(Ký, ghi rõ họ tên)", "(signature and full name)")
    return (
        '<section class="verdict-block">'
        + w.h2("10. Xác nhận", "10. Signatures")
        + f"<p class='right'><i>{date_line}</i></p><div class='sign'>"
        + f"<div><p><b>{w.t('CHUYÊN GIA THẨM TRA', 'VERIFIER')}</b></p><p><i>{sign}</i></p><br><br><br>"
        f"<p>{esc(ctx.people.verifier or '')}</p></div>"
        + f"<div><p><b>{w.t('CÁN BỘ PHỤ TRÁCH CHƯƠNG TRÌNH', 'PROGRAMME OFFICER')}</b></p><p><i>{sign}</i></p>"
        f"<br><br><br><p>{esc(ctx.people.officer or '')}</p></div>"
        + f"<div><p><b>{w.t('ĐẠI DIỆN DOANH NGHIỆP', 'FOR THE ENTERPRISE')}</b></p><p><i>"
        f"{w.t('(Ký, đóng dấu)', '(signature and seal)')}</i></p><br><br><br>"
        f"<p>{esc(case.enterprise_name or '')}</p></div></div></section>"
    )


def _css_string(text: str) -> str:
    """A value safe inside a CSS string in a <style> element."""
    return "".join(ch for ch in text if ch.isalnum() or ch in " .-_/:()") or "-"


def render_report(
    case: VerificationCase,
    conclusion: Conclusion,
    *,
    agency_vi: str,
    agency_en: str,
    context: ReportContext | None = None,
) -> str:
    ctx = context or ReportContext()
    w = _Writer(ctx.language)
    r = conclusion.result
    when = local(conclusion.concluded_at).strftime("%H:%M %d/%m/%Y")
    title = w.t("BÁO CÁO THẨM TRA KẾT QUẢ TIẾT KIỆM NĂNG LƯỢNG", "VERIFICATION REPORT ON ENERGY SAVINGS")
    dossier = case.dossier_code or str(case.id)
    css = CSS
    for key, value in (
        ("dossier_label", w.t("Hồ sơ", "Dossier")),
        ("dossier", _css_string(dossier)),
        ("page_word", w.t("Trang", "Page")),
        ("footer", _css_string(w.t("Báo cáo thẩm tra", "Verification report"))),
    ):
        css = css.replace(f"@{key}@", value)
    body = "".join(
        [
            f'<div class="agency">{esc(agency_vi if ctx.language == "vi" else agency_en)}</div>',
            f"<h1>{title}</h1>",
            f'<p class="meta">{w.t("Mã hồ sơ", "Dossier")} {esc(dossier)} · {w.t("Kết luận lúc", "Concluded")} '
            f"{esc(when)} ({w.t('giờ Hà Nội', 'Hanoi time')})</p>",
            _general(w, case, ctx),
            _verdict(w, conclusion, r),
            _savings(w, r, ctx),
            _method(w, r),
            _model(w, r),
            _norm(w, conclusion, ctx, case),
            _inputs(w, case, r, ctx),
            _factors(w, r),
            _review(w, conclusion, r),
            _signatures(w, case, conclusion, ctx),
        ]
    )
    return (
        f'<!DOCTYPE html><html lang="{ctx.language}"><head><meta charset="utf-8"><title>{title} — '
        f"{esc(dossier)}</title><style>{css}</style></head><body>{body}</body></html>"
    )
