"""The report's words: labels for codes, sentences rebuilt from the stored figures in Vietnamese with decimal
commas (no English, no developer hints), dd/mm/yyyy dates."""

from __future__ import annotations

import pytest

from cleanprod_verification.conclusions import report_text as rt

RECORD = {
    "verified_savings_percent": 9.876,
    "claimed_percent": 8.0,
    "claim_tolerance_pp": 0.5,
    "programme_target_percent": 6.0,
    "method": "regression",
    "total": {
        "regression": {
            "uncertainty_check": {
                "name": "fractional_savings_uncertainty",
                "passed": True,
                "value": 0.12,
                "threshold": 0.5,
                "message": "x",
            },
            "checks": [
                {"name": "r_squared", "passed": False, "value": 0.41234, "threshold": 0.5, "message": "R² = 0.412"}
            ],
        }
    },
}


def test_numbers_and_dates() -> None:
    assert rt.number(1234567.891, 2, "vi") == "1.234.567,89"
    assert rt.number(1234567.891, 2, "en") == "1,234,567.89"
    assert rt.number(-0.0001, 2, "vi") == "0,00"
    assert rt.percent(10, 2, "vi") == "10,00 %"
    assert rt.date("2026-03-31") == "31/03/2026" and rt.date("2026-03-31T10:00:00+07:00") == "31/03/2026"


def test_verdict_reasons_in_vietnamese_from_the_figures() -> None:
    reasons = rt.verdict_reasons(RECORD, "vi")
    assert reasons[0] == ("Mức tiết kiệm được thẩm tra 9,88 % đạt mức đăng ký 8,00 % (dung sai 0,5 điểm phần trăm).")
    assert reasons[1] == "Mức tiết kiệm đạt mục tiêu chương trình 6,00 %."
    assert "68 %" in reasons[2] and "đạt" in reasons[2]
    english = rt.verdict_reasons({**RECORD, "verified_savings_percent": 5.0}, "en")
    assert english[0].startswith("The verified savings of 5.00 % are below the claimed 8.00 %")
    assert "below the programme target" in english[1]


def test_failed_criteria_explain_the_fallback() -> None:
    assert rt.fallback_reasons(RECORD, "vi") == ["Hệ số xác định R²: R² = 0,4123; tối thiểu 0,50"]
    assert (
        rt.criterion_name("production_within_baseline_range", "vi") == "Sản lượng kỳ báo cáo trong phạm vi đường cơ sở"
    )


@pytest.mark.parametrize(
    ("english", "vietnamese"),
    [
        (
            "the claim names water, diesel_oil, which no period measures; not evaluated",
            "Mức đăng ký có dạng năng lượng Nước, Dầu diesel (DO) nhưng không kỳ nào đo; không đánh giá.",
        ),
        (
            "mean production per period changed by +25.0 % from baseline to reporting while savings are computed by SEC",
            "Sản lượng bình quân mỗi kỳ thay đổi 25,0 % so với đường cơ sở",
        ),
        ("something new the maths says", "Cảnh báo kỹ thuật của phép tính"),
    ],
)
def test_warnings_are_told_in_vietnamese(english: str, vietnamese: str) -> None:
    assert rt.warning(english, "vi").startswith(vietnamese)
    assert rt.warning("something new the maths says", "en") == "something new the maths says"


def test_labels() -> None:
    assert rt.label(rt.CARRIERS, "coal_grade_3_4", "vi") == "Than cám loại 3–4"
    assert rt.label(rt.METHODS, "sec", "vi") == "Suất tiêu hao năng lượng (SEC = E/P)"
    assert rt.label(rt.CARRIERS, "unknown_code", "vi") == "unknown_code"
    assert rt.label(rt.PRODUCTS, "billet electric arc furnace", "vi") == "Phôi thép luyện lò điện hồ quang"
    assert rt.label(rt.PRODUCTS, "billet electric arc furnace", "en") == "Billet, electric arc furnace"


def test_dropped_normalisation_warnings_are_translated() -> None:
    from cleanprod_verification.conclusions.report_text import warning

    total = "normalisation dropped for the total: cooling degree-days (CDD) — the chosen model could not be used"
    assert warning(total, "vi").startswith("Không dùng được mô hình đường cơ sở đã chọn")
    carrier = "normalisation dropped for electricity: cooling degree-days (CDD) — the chosen model could not be used"
    assert "không hiệu chỉnh" in warning(carrier, "vi") and not warning(carrier, "vi").startswith("electricity")
    assert warning("CDD is not given for the baseline periods, so the model cannot use it", "vi").startswith("CDD")
