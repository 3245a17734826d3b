"""The error-code catalogue: both languages for every code, the same placeholders, every code the source uses is
listed, docs/error-codes.md is generated from it, and Accept-Language picks the language."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from cleanprod_kit import errors, messages
from cleanprod_kit.errors import (
    Conflict,
    InvalidValue,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    Problem,
    Unprocessable,
    field_error,
)

ROOT = Path(__file__).resolve().parents[3]
SOURCES = [ROOT / "libs" / "kit" / "src", ROOT / "gateway" / "src", *sorted((ROOT / "services").glob("*/src"))]
PROBLEM_CLASSES = {
    "Problem",
    "BadRequest",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "Conflict",
    "PreconditionFailed",
    "PayloadTooLarge",
    "UnsupportedMediaType",
    "Unprocessable",
    "PreconditionRequired",
    "TooManyRequests",
    "BadGateway",
    "ServiceUnavailable",
    "GatewayTimeout",
    "NotFoundRoute",
}
CODED_ERRORS = {"InvalidValue", "UrlRefused", "PydanticCustomError"}  # first argument: the code
CODE_ENUMS = {"ScoreProblemCode", "RefusalCode"}  # domain codes that reach errors[] or a problem's code
VIETNAMESE = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.I)


def _const(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _kw(call: ast.Call, name: str) -> ast.AST | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _call_code(call: ast.Call) -> str | None:
    """The code a call names: field_error(…, code), a problem class's code (or its slug), a coded exception."""
    func = call.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    if name == "field_error":
        return _const(call.args[2]) if len(call.args) > 2 else _const(_kw(call, "code"))
    if name in PROBLEM_CLASSES:
        code, slug = _const(_kw(call, "code")), _const(_kw(call, "slug"))
        return code or (slug.replace("-", "_") if slug else None)
    if name in CODED_ERRORS and call.args:
        return _const(call.args[0])
    return None


def _class_codes(cls: ast.ClassDef) -> list[str | None]:
    """`code = "…"` (also in a tuple assignment) in a class body, and every member of a domain code enum."""
    codes: list[str | None] = []
    for statement in cls.body:
        if not isinstance(statement, ast.Assign):
            continue
        target, value = statement.targets[0], statement.value
        if isinstance(target, ast.Name) and target.id == "code":
            codes.append(_const(value))
        elif isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
            codes.extend(
                _const(v)
                for t, v in zip(target.elts, value.elts, strict=False)
                if isinstance(t, ast.Name) and t.id == "code"
            )
        elif cls.name in CODE_ENUMS:
            codes.append(_const(value))
    return codes


def codes_in_source() -> dict[str, set[str]]:
    """code → the files that use it (field_error codes, problem codes and slugs, coded exceptions, class codes)."""
    found: dict[str, set[str]] = {}
    for source in SOURCES:
        for path in source.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call):
                    codes = [_call_code(node)]
                elif isinstance(node, ast.ClassDef):
                    codes = _class_codes(node)
                else:
                    continue
                for code in filter(None, codes):
                    found.setdefault(code, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_code_used_in_the_source_has_an_entry() -> None:
    used = codes_in_source()
    assert len(used) > 100  # the scan really reads the services
    for code in [c for c, _ in errors._PYDANTIC_CODES.values()] + list(errors.HTTP_CODES.values()):
        used.setdefault(code, set()).add("libs/kit/src/cleanprod_kit/errors.py")
    missing = {code: sorted(files) for code, files in used.items() if code not in messages.CATALOGUE}
    assert missing == {}


def test_every_entry_has_both_languages_and_the_same_placeholders() -> None:
    for code, entry in messages.CATALOGUE.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", code), code
        assert entry.title_en.strip() and entry.title_vi.strip() and entry.en.strip() and entry.vi.strip(), code
        assert VIETNAMESE.search(entry.title_vi + entry.vi), f"{code}: the Vietnamese text has no diacritics"
        assert entry.vi != entry.en and entry.title_vi != entry.title_en, code
        # Vietnamese may leave out a detail the English names, never ask for a value the English does not.
        assert messages.placeholders(entry.vi) <= messages.placeholders(entry.en), code
        assert messages.format_text(entry.en, {}, "en")  # never raises, even without values


def test_docs_error_codes_is_generated_from_the_catalogue() -> None:
    document = (ROOT / "docs" / "error-codes.md").read_text(encoding="utf-8")
    assert document == messages.markdown(), "run: python -m cleanprod_kit.messages > docs/error-codes.md"
    for code in messages.CATALOGUE:
        assert f"| `{code}` |" in document


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "en"),
        ("", "en"),
        ("vi", "vi"),
        ("vi-VN", "vi"),
        ("VI-vn,vi;q=0.9", "vi"),
        ("en-US,en;q=0.9", "en"),
        ("vi-VN,vi;q=0.9,en-US;q=0.8,en;q=0.7", "vi"),
        ("en;q=0.5,vi;q=0.8", "vi"),
        ("fr-FR,fr;q=0.9", "en"),
        ("fr,vi;q=0.3", "vi"),
        ("*", "en"),
        ("vi;q=0", "en"),
        ("en,vi", "en"),
        ("vi,en", "vi"),
        ("garbage;;;q=x,vi", "vi"),
        ("vi;q=abc", "en"),
    ],
)
def test_accept_language_negotiation(header: str | None, language: str) -> None:
    assert messages.preferred_language(header) == language


def test_problems_render_in_either_language_with_values() -> None:
    problem = Conflict(
        code="budget_below_committed",
        params={"committed": 1_500_000_000},
        errors=[field_error("budget_vnd", None, "budget_below_committed", committed=1_500_000_000)],
    )
    en, vi = problem.to_body("/x"), problem.to_body("/x", "vi")
    assert en["code"] == vi["code"] == "budget_below_committed"
    assert en["detail"].endswith("(1,500,000,000 VND).") and en["errors"][0]["message"] == en["detail"]
    assert vi["title"] == "Ngân sách thấp hơn số đã cam kết"
    assert vi["detail"].endswith("(1.500.000.000 đồng).") and vi["errors"][0]["message"] == vi["detail"]
    assert "_params" not in en["errors"][0] and set(vi["errors"][0]) == {"field", "message", "code"}


def test_class_codes_and_explicit_english_details() -> None:
    assert PreconditionRequired().to_body()["code"] == "if_match_required"
    stale = PreconditionFailed(current_etag='"3"').to_body(language="vi")
    assert stale["code"] == "stale_version" and stale["current_etag"] == '"3"'
    assert stale["detail"] == "Hồ sơ đã được người khác thay đổi; vui lòng tải lại và lưu lần nữa."
    specific = NotFound("Sector 'x' is gone.").to_body()
    assert specific["code"] == "not_found" and specific["detail"] == "Sector 'x' is gone."
    assert NotFound("Sector 'x' is gone.").to_body(language="vi")["detail"] == "Không tìm thấy dữ liệu được yêu cầu."
    assert Unprocessable(slug="idempotency-key-reused").to_body()["code"] == "idempotency_key_reused"
    # A placeholder the raise did not fill never breaks the answer.
    assert "…" in Problem(code="call_closed").to_body(language="vi")["detail"]


def test_coded_value_errors_keep_their_english_and_carry_the_code() -> None:
    error = InvalidValue("duplicate_carrier", "each carrier once", repeated="electricity")
    assert str(error) == "each carrier once" and error.code == "duplicate_carrier"
    assert (
        str(InvalidValue("duplicate_carrier", repeated="coke")) == "Each carrier may be claimed once; repeated: coke."
    )
