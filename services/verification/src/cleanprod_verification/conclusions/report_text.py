"""The words of the verification report in Vietnamese and English: labels of codes (carriers, methods,
criteria, estimates), and the sentences rebuilt from the stored figures (verdict reasons, criteria, norm
outcome, warnings). The computation stores its explanations in English for the record; the report does not
print them in the Vietnamese version but says the same thing from the numbers, with decimal commas."""

from __future__ import annotations

import re
from typing import Any

CARRIERS = {
    "electricity": ("Điện năng", "Electricity"),
    "coal_grade_1_2": ("Than cám loại 1–2", "Coal, grades 1–2"),
    "coal_grade_3_4": ("Than cám loại 3–4", "Coal, grades 3–4"),
    "coal_grade_5_6": ("Than cám loại 5–6", "Coal, grades 5–6"),
    "coke": ("Than cốc", "Coke"),
    "diesel_oil": ("Dầu diesel (DO)", "Diesel oil (DO)"),
    "fuel_oil": ("Dầu mazut (FO)", "Fuel oil (FO)"),
    "gasoline": ("Xăng", "Gasoline"),
    "lpg": ("Khí hóa lỏng (LPG)", "Liquefied petroleum gas (LPG)"),
    "natural_gas": ("Khí thiên nhiên", "Natural gas"),
    "water": ("Nước", "Water"),
    "total": ("Tổng", "Total"),
}
METHODS = {
    "regression": (
        "Mô hình hồi quy đường cơ sở (IPMVP phương án C, ISO 50006)",
        "Regression baseline model (IPMVP Option C, ISO 50006)",
    ),
    "sec": ("Suất tiêu hao năng lượng (SEC = E/P)", "Specific energy consumption (SEC = E/P)"),
    "sec_capped_by_regression": (
        "SEC giới hạn bởi hồi quy: lấy giá trị thấp hơn vì điều kiện kỳ báo cáo nằm ngoài phạm vi đường cơ sở",
        "SEC capped by regression: the lower estimate, as reporting conditions lie outside the baseline range",
    ),
}
METHOD_WHY = {
    "regression": (
        "Mô hình đạt mọi tiêu chí chấp nhận nên được dùng để điều chỉnh đường cơ sở theo điều kiện kỳ báo cáo.",
        "The model passes every acceptance criterion, so it adjusts the baseline to the reporting conditions.",
    ),
    "sec": (
        "Không có mô hình hồi quy đạt các tiêu chí chấp nhận nên tiết kiệm được tính theo suất tiêu hao.",
        "No regression model passes the acceptance criteria, so savings are computed from the specific "
        "energy consumption.",
    ),
    "sec_capped_by_regression": (
        "Mô hình đạt các tiêu chí thống kê nhưng điều kiện kỳ báo cáo nằm ngoài phạm vi đường cơ sở: lấy ước tính "
        "thấp hơn và kết quả phải được chuyên gia xem xét.",
        "The model passes the statistical criteria but the reporting conditions lie outside the baseline range: "
        "the lower estimate is used and the verifier must review the result.",
    ),
}
ESTIMATES = {
    "sec": ("ước tính theo SEC", "the SEC estimate"),
    "regression": ("ước tính theo hồi quy", "the regression estimate"),
}
VARIABLES = {
    "intercept": ("Hệ số tự do", "Intercept"),
    "production": ("Sản lượng", "Production"),
    "cdd": ("CDD (độ-ngày làm mát)", "CDD (cooling degree-days)"),
    "hdd": ("HDD (độ-ngày sưởi)", "HDD (heating degree-days)"),
}
CRITERIA = {
    "min_baseline_periods": ("Số kỳ đường cơ sở", "Baseline periods"),
    "r_squared": ("Hệ số xác định R²", "Coefficient of determination R²"),
    "cv_rmse": ("CV(RMSE)", "CV(RMSE)"),
    "nmbe": ("NMBE", "NMBE"),
    "f_test_p_value": ("Kiểm định F (giá trị p)", "F-test (p-value)"),
    "fractional_savings_uncertainty": ("Độ bất định của tiết kiệm", "Savings uncertainty"),
}
# The products and stages of the energy-consumption norms (the registry's `norms_seed.csv`, after the Circulars'
# own Vietnamese names); a facility's products are these codes. A product not listed is printed as recorded.
PRODUCTS = {
    "iron ore sintering": ("Thiêu kết quặng sắt", "Iron ore sintering"),
    "pig iron blast furnace": ("Luyện gang lò cao", "Pig iron, blast furnace"),
    "billet basic oxygen (converter) furnace": ("Phôi thép luyện lò thổi (lò chuyển)", "Billet, basic oxygen furnace"),
    "billet electric arc furnace": ("Phôi thép luyện lò điện hồ quang", "Billet, electric arc furnace"),
    "billet induction furnace": ("Phôi thép luyện lò cảm ứng", "Billet, induction furnace"),
    "hot rolling long products": ("Cán nóng thép dài", "Hot rolling, long products"),
    "cold rolling flat sheet": ("Cán nguội thép tấm", "Cold rolling, flat sheet"),
    "beer": ("Bia", "Beer"),
    "soft drinks carbonated (or carbonated+still)": (
        "Nước giải khát có ga (hoặc có ga và không ga)",
        "Soft drinks, carbonated (or carbonated and still)",
    ),
    "soft drinks non-carbonated only": ("Nước giải khát không ga", "Soft drinks, still only"),
    "packaging paper (recycled fibre)": ("Giấy bao bì (bột giấy tái chế)", "Packaging paper (recycled fibre)"),
    "printing/writing/copy paper": ("Giấy in, giấy viết, giấy photocopy", "Printing, writing and copy paper"),
    "tissue": ("Giấy tissue", "Tissue paper"),
    "catfish (pangasius) products - fish-equivalent": (
        "Sản phẩm cá tra (quy đổi theo cá nguyên liệu)",
        "Pangasius catfish products (fish equivalent)",
    ),
    "shrimp products - shrimp-equivalent": (
        "Sản phẩm tôm (quy đổi theo tôm nguyên liệu)",
        "Shrimp products (shrimp equivalent)",
    ),
}
RANGE_SUFFIX = "_within_baseline_range"
UNITS = {
    "t/yr": ("tấn/năm", "t/year"),
    "hl/yr": ("hl/năm", "hl/year"),
    "m3/yr": ("m³/năm", "m³/year"),
    "million L/yr": ("triệu lít/năm", "million L/year"),
    "t product/yr": ("tấn sản phẩm/năm", "t product/year"),
    "t": ("tấn", "t"),
    "unit": ("sản phẩm", "pieces"),
    "m3": ("m³", "m³"),
    "m2": ("m²", "m²"),
}


def pick(pair: tuple[str, str], language: str) -> str:
    return pair[0] if language == "vi" else pair[1]


def label(table: dict[str, tuple[str, str]], code: str | None, language: str) -> str:
    if code is None:
        return "—"
    return pick(table[code], language) if code in table else code


def number(value: Any, digits: int, language: str) -> str:
    """1234567.891 → 1.234.567,89 (vi) / 1,234,567.89 (en); None → —; −0 → 0."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    text = f"{value:,.{digits}f}"
    if text.startswith("-") and not any(ch not in "-0.," for ch in text):
        text = text[1:]
    if language == "vi":
        text = text.replace(",", "\u00a0").replace(".", ",").replace("\u00a0", ".")
    return text


def percent(value: Any, digits: int, language: str) -> str:
    return "—" if value is None else f"{number(value, digits, language)} %"


def fraction_percent(value: Any, digits: int, language: str) -> str:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    return percent(value * 100, digits, language) if ok else "—"


def date(value: Any) -> str:
    """ISO date (or datetime) → dd/mm/yyyy."""
    if not value:
        return "—"
    text = str(value)[:10]
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return f"{text[8:10]}/{text[5:7]}/{text[:4]}"
    return text


def verdict_reasons(r: dict[str, Any], language: str) -> list[str]:
    """The verdict's grounds from the stored figures (the same rule as mv/verdict.py)."""
    verified, claimed = r.get("verified_savings_percent"), r.get("claimed_percent")
    tolerance, target = r.get("claim_tolerance_pp"), r.get("programme_target_percent")
    n = lambda v: percent(v, 2, language)  # noqa: E731
    out: list[str] = []
    if verified is None:
        out.append(
            pick(
                (
                    "Không xác định được mức tiết kiệm (đường cơ sở điều chỉnh không dương).",
                    "The savings cannot be determined (the adjusted baseline is not positive).",
                ),
                language,
            )
        )
        return out
    needed = claimed - tolerance
    if verified >= needed:
        out.append(
            pick(
                (
                    f"Mức tiết kiệm được thẩm tra {n(verified)} đạt mức đăng ký {n(claimed)} "
                    f"(dung sai {number(tolerance, 1, 'vi')} điểm phần trăm).",
                    f"The verified savings of {n(verified)} meet the claimed {n(claimed)} "
                    f"(tolerance {number(tolerance, 1, 'en')} percentage points).",
                ),
                language,
            )
        )
    else:
        out.append(
            pick(
                (
                    f"Mức tiết kiệm được thẩm tra {n(verified)} thấp hơn mức đăng ký {n(claimed)} trừ dung sai "
                    f"{number(tolerance, 1, 'vi')} điểm phần trăm ({n(needed)}).",
                    f"The verified savings of {n(verified)} are below the claimed {n(claimed)} minus the "
                    f"{number(tolerance, 1, 'en')} percentage-point tolerance ({n(needed)}).",
                ),
                language,
            )
        )
    if verified >= target:
        out.append(
            pick(
                (
                    f"Mức tiết kiệm đạt mục tiêu chương trình {n(target)}.",
                    f"The savings reach the programme target of {n(target)}.",
                ),
                language,
            )
        )
    else:
        out.append(
            pick(
                (
                    f"Mức tiết kiệm thấp hơn mục tiêu chương trình {n(target)}.",
                    f"The savings are below the programme target of {n(target)}.",
                ),
                language,
            )
        )
    check = ((r.get("total") or {}).get("regression") or {}).get("uncertainty_check")
    uses_regression = r.get("method") == "regression" or (r.get("total") or {}).get("binding_estimate") == "regression"
    if check and uses_regression:
        out.append(criterion_sentence(check, language))
    return out


def criterion_name(name: str, language: str) -> str:
    if name.endswith(RANGE_SUFFIX):
        variable = label(VARIABLES, name.removesuffix(RANGE_SUFFIX), language)
        return pick(
            (
                f"{variable} kỳ báo cáo trong phạm vi đường cơ sở",
                f"{variable} of the reporting periods within the baseline range",
            ),
            language,
        )
    return label(CRITERIA, name, language)


def criterion_sentence(check: dict[str, Any], language: str) -> str:
    """Value and requirement of one acceptance criterion, from its stored value and threshold."""
    name, value, threshold = check["name"], check.get("value"), check.get("threshold")
    v = lambda x, d=3: number(x, d, language)  # noqa: E731
    fp = lambda x, d=1: fraction_percent(x, d, language)  # noqa: E731
    if name == "min_baseline_periods":
        return pick(
            (f"{v(value, 0)} kỳ; tối thiểu {v(threshold, 0)}", f"{v(value, 0)} periods; at least {v(threshold, 0)}"),
            language,
        )
    if name == "r_squared":
        return pick(
            (f"R² = {v(value, 4)}; tối thiểu {v(threshold, 2)}", f"R² = {v(value, 4)}; at least {v(threshold, 2)}"),
            language,
        )
    if name == "cv_rmse":
        return pick((f"{fp(value, 2)}; tối đa {fp(threshold)}", f"{fp(value, 2)}; at most {fp(threshold)}"), language)
    if name == "nmbe":
        return pick((f"{fp(value, 3)}; tối đa ±{fp(threshold)}", f"{fp(value, 3)}; at most ±{fp(threshold)}"), language)
    if name == "f_test_p_value":
        return pick(
            (
                f"p = {v(value, 4)}; phải nhỏ hơn {v(threshold, 2)}",
                f"p = {v(value, 4)}; below {v(threshold, 2)} required",
            ),
            language,
        )
    if name == "fractional_savings_uncertainty":
        return pick(
            (
                f"Yêu cầu độ bất định của tiết kiệm tối đa {fp(threshold, 0)} ở độ tin cậy 68 % "
                f"(ASHRAE Guideline 14): {'đạt' if check['passed'] else 'không đạt'}.",
                f"Savings uncertainty required at most {fp(threshold, 0)} at 68 % confidence "
                f"(ASHRAE Guideline 14): {'met' if check['passed'] else 'not met'}.",
            ),
            language,
        )
    if name.endswith(RANGE_SUFFIX):
        return pick(
            (
                f"vượt phạm vi {fp(value)} độ rộng; cho phép {fp(threshold, 0)}",
                f"beyond the range by {fp(value)} of its span; {fp(threshold, 0)} allowed",
            ),
            language,
        )
    return check.get("message") or ""


def fallback_reasons(r: dict[str, Any], language: str) -> list[str]:
    """Why the regression was not used on its own: its failed criteria (or that none could be fitted)."""
    total = r.get("total") or {}
    regression = total.get("regression")
    if not regression:
        if not total.get("fallback_reasons") and not total.get("regression_unavailable"):
            return []
        return [
            pick(
                (
                    "Không xây dựng được mô hình hồi quy từ số liệu đường cơ sở (không đủ kỳ hoặc các biến không "
                    "thay đổi).",
                    "No regression model could be fitted to the baseline data (too few periods or "
                    "variables that do not vary).",
                ),
                language,
            )
        ]
    failed = [c for c in regression.get("checks", []) if not c.get("passed")]
    return [f"{criterion_name(c['name'], language)}: {criterion_sentence(c, language)}" for c in failed]


_WARNINGS: list[tuple[re.Pattern[str], tuple[str, str]]] = [
    (
        re.compile(r"^(CDD|HDD) is missing for some baseline periods"),
        (
            "{0} thiếu ở một số kỳ cơ sở nên mô hình không dùng biến này.",
            "{0} is missing for some baseline periods, so the model does not use it.",
        ),
    ),
    (
        re.compile(r"^(CDD|HDD) is given for the baseline but missing"),
        (
            "{0} thiếu ở một số kỳ báo cáo nên mô hình không dùng biến này.",
            "{0} is missing for some reporting periods, so the model does not use it.",
        ),
    ),
    (
        re.compile(r"^(CDD|HDD) is the same in every baseline period"),
        (
            "{0} không đổi trong mọi kỳ cơ sở nên mô hình không dùng biến này.",
            "{0} is the same in every baseline period, so the model does not use it.",
        ),
    ),
    (
        re.compile(r"^(CDD|HDD) is not given for the baseline periods"),
        (
            "{0} không có ở các kỳ cơ sở nên mô hình không dùng được biến này.",
            "{0} is not given for the baseline periods, so the model cannot use it.",
        ),
    ),
    (
        re.compile(r"^normalisation dropped for the total:"),
        (
            "Không dùng được mô hình đường cơ sở đã chọn: kết quả tổng không hiệu chỉnh theo biến mô hình đã chọn "
            "(độ-ngày thời tiết); người thẩm tra đã phải giải trình vì sao chấp nhận phương pháp dự phòng.",
            "The chosen baseline model could not be used: the total is not normalised for the chosen variables "
            "(weather degree-days); the verifier had to state why the fallback is acceptable.",
        ),
    ),
    (
        re.compile(r"^normalisation dropped for ([a-z_0-9]+):"),
        (
            "{0}: kết quả không hiệu chỉnh theo biến mô hình đã chọn (độ-ngày thời tiết); cần xem xét.",
            "{0}: the figure is not normalised for the chosen variables (weather degree-days); to be reviewed.",
        ),
    ),
    (
        re.compile(r"^the claim names (.+), which no period measures"),
        (
            "Mức đăng ký có dạng năng lượng {0} nhưng không kỳ nào đo; không đánh giá.",
            "The claim names {0}, which no period measures; not evaluated.",
        ),
    ),
    (
        re.compile(r"^some carriers were evaluated with a different method"),
        (
            "Một số dạng năng lượng được đánh giá bằng phương pháp khác với tổng; tiết kiệm theo từng dạng không nhất "
            "thiết cộng lại bằng tổng.",
            "Some carriers were evaluated with another method than the total; per-carrier "
            "savings need not add up to the total.",
        ),
    ),
    (
        re.compile(r"^the regression baseline passes every statistical criterion"),
        (
            "Mô hình hồi quy đạt mọi tiêu chí thống kê nhưng điều kiện kỳ báo cáo nằm ngoài phạm vi đường cơ sở; lấy "
            "ước tính thấp hơn giữa SEC và hồi quy. Cần chuyên gia xem xét.",
            "The regression passes every statistical criterion but the reporting conditions lie outside the baseline "
            "range; the lower of the SEC and regression estimates is used. The verifier must review it.",
        ),
    ),
    (
        re.compile(r"^per-carrier savings of (.+) use the lower"),
        (
            "Tiết kiệm theo dạng năng lượng {0} lấy giá trị thấp hơn giữa SEC và hồi quy; cần xem xét.",
            "Per-carrier savings of {0} use the lower of the SEC and regression estimates; to be reviewed.",
        ),
    ),
    (
        re.compile(r"^mean production per period changed by ([+-]?[\d.]+) %"),
        (
            "Sản lượng bình quân mỗi kỳ thay đổi {0} % so với đường cơ sở trong khi tiết kiệm tính theo SEC (tính cả "
            "phần tiêu thụ cố định); cần xem xét.",
            "Mean production per period changed by {0} % from the baseline "
            "while savings are computed by SEC (which counts the fixed part of consumption); to be reviewed.",
        ),
    ),
]


def warning(text: str, language: str) -> str:
    for pattern, pair in _WARNINGS:
        match = pattern.match(text)
        if match:
            args = []
            for group in match.groups():
                if re.fullmatch(r"[+-]?[\d.]+", group):
                    args.append(number(float(group), 1, language))
                else:
                    args.append(", ".join(label(CARRIERS, c.strip(), language) for c in group.split(",")))
            return pick(pair, language).format(*args)
    return text if language == "en" else "Cảnh báo kỹ thuật của phép tính (nội dung lưu trong kết quả)."
