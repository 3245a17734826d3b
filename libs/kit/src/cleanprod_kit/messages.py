"""The one vocabulary of error codes, each with its English and Vietnamese title and message.

Every problem+json answer carries a top-level `code`, and every entry of `errors[]` a `code`, from CATALOGUE
below. `cleanprod_kit.errors` renders `title`, `detail` and field `message`s from it in the language the request
prefers (`Accept-Language`: Vietnamese when `vi` is preferred, English otherwise). Messages may name values as
`{placeholders}`; the raise passes them (`Conflict(code="not_editable", params={"status": ...})`,
`field_error("budget_vnd", None, "budget_below_committed", committed=...)`). Whole numbers are grouped the
local way (1,500,000 / 1.500.000) and dates written dd/mm/yyyy.

Adding a code: add an entry here (both languages, same placeholders), then run
`python -m cleanprod_kit.messages > docs/error-codes.md` (a kit test fails while the document is out of date,
while a code used in the source has no entry, or while an entry lacks a language).
"""

from __future__ import annotations

import datetime as dt
import re
import string
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

LANGUAGES = ("en", "vi")
DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class Entry:
    title_en: str
    title_vi: str
    en: str
    vi: str

    def title(self, language: str) -> str:
        return self.title_vi if language == "vi" else self.title_en

    def message(self, language: str) -> str:
        return self.vi if language == "vi" else self.en


def _e(title_en: str, title_vi: str, en: str, vi: str) -> Entry:
    return Entry(title_en, title_vi, en, vi)


_CATALOGUE: dict[str, Entry] = {
    # ---- generic, one per HTTP problem class ------------------------------------------------------------------
    "bad_request": _e(
        "Bad request",
        "Yêu cầu không hợp lệ",
        "The request cannot be processed as sent.",
        "Không thể xử lý yêu cầu như đã gửi.",
    ),
    "unauthorized": _e(
        "Unauthorized",
        "Chưa xác thực",
        "Authentication required: sign in and send a valid access token.",
        "Cần xác thực: vui lòng đăng nhập và gửi mã truy cập hợp lệ.",
    ),
    "forbidden": _e(
        "Forbidden",
        "Không có quyền",
        "Your account may not do this.",
        "Tài khoản của bạn không có quyền thực hiện thao tác này.",
    ),
    "not_found": _e(
        "Not found", "Không tìm thấy", "The requested resource does not exist.", "Không tìm thấy dữ liệu được yêu cầu."
    ),
    "method_not_allowed": _e(
        "Method not allowed",
        "Phương thức không được hỗ trợ",
        "This method is not allowed on this address.",
        "Địa chỉ này không hỗ trợ phương thức đã dùng.",
    ),
    "conflict": _e(
        "Conflict",
        "Xung đột dữ liệu",
        "The change conflicts with existing data.",
        "Thay đổi xung đột với dữ liệu hiện có.",
    ),
    "stale_version": _e(
        "Precondition failed",
        "Dữ liệu đã bị thay đổi",
        "The record was changed by someone else; reload it and save again.",
        "Hồ sơ đã được người khác thay đổi; vui lòng tải lại và lưu lần nữa.",
    ),
    "if_match_required": _e(
        "Precondition required",
        "Thiếu phiên bản dữ liệu",
        "This change needs an 'If-Match' header with the record's current ETag (read it with GET first).",
        "Thay đổi này cần tiêu đề 'If-Match' với ETag hiện tại của hồ sơ (hãy tải hồ sơ bằng GET trước).",
    ),
    "payload_too_large": _e(
        "Payload too large",
        "Dữ liệu gửi lên quá lớn",
        "The request body is larger than this endpoint accepts.",
        "Dữ liệu gửi lên vượt quá dung lượng mà địa chỉ này chấp nhận.",
    ),
    "unsupported_media_type": _e(
        "Unsupported media type",
        "Định dạng không được hỗ trợ",
        "The content type of the request is not supported here.",
        "Định dạng nội dung của yêu cầu không được hỗ trợ ở đây.",
    ),
    "validation_failed": _e(
        "Unprocessable content",
        "Dữ liệu không hợp lệ",
        "Some fields are invalid; see errors[] for each one.",
        "Một số trường không hợp lệ; xem chi tiết từng trường trong errors[].",
    ),
    "rate_limited": _e(
        "Too many requests",
        "Quá nhiều yêu cầu",
        "Too many requests from this client; retry in {retry_after} s.",
        "Bạn đã gửi quá nhiều yêu cầu; vui lòng thử lại sau {retry_after} giây.",
    ),
    "bad_gateway": _e(
        "Bad gateway",
        "Lỗi kết nối dịch vụ",
        "A service behind the gateway is unreachable or gave no valid answer.",
        "Một dịch vụ phía sau cổng API không truy cập được hoặc trả lời không hợp lệ.",
    ),
    "gateway_timeout": _e(
        "Gateway timeout",
        "Dịch vụ phản hồi quá chậm",
        "The {service} service did not answer in time.",
        "Dịch vụ {service} không phản hồi kịp thời.",
    ),
    "service_unavailable": _e(
        "Service unavailable",
        "Dịch vụ tạm thời không khả dụng",
        "The service is temporarily unavailable; try again later.",
        "Dịch vụ tạm thời không khả dụng; vui lòng thử lại sau.",
    ),
    "internal_error": _e(
        "Internal error",
        "Lỗi hệ thống",
        "An unexpected error occurred; it has been logged.",
        "Đã xảy ra lỗi ngoài dự kiến; lỗi đã được ghi lại để xử lý.",
    ),
    "malformed_body": _e(
        "Bad request",
        "Dữ liệu gửi lên không đọc được",
        "The request body is not valid JSON (or not UTF-8). Send a JSON object encoded in UTF-8.",
        "Nội dung yêu cầu không phải JSON hợp lệ (hoặc không phải UTF-8). Hãy gửi một đối tượng JSON mã hoá UTF-8.",
    ),
    "idempotency_key_reused": _e(
        "Idempotency key reused",
        "Khoá Idempotency-Key đã được dùng",
        "This Idempotency-Key was already used for a different request; use a new key for a new request.",
        "Khoá Idempotency-Key này đã được dùng cho một yêu cầu khác; hãy dùng khoá mới cho yêu cầu mới.",
    ),
    "invalid_idempotency_key": _e(
        "Invalid Idempotency-Key",
        "Idempotency-Key không hợp lệ",
        "Idempotency-Key must be 1–255 visible ASCII characters (no spaces).",
        "Idempotency-Key phải gồm 1–255 ký tự ASCII nhìn thấy được (không có dấu cách).",
    ),
    "data_conflict": _e(
        "Conflict",
        "Xung đột dữ liệu",
        "The change conflicts with existing data.",
        "Thay đổi xung đột với dữ liệu hiện có.",
    ),
    # ---- field validation (request bodies, query and path parameters) -----------------------------------------
    "required": _e("Required", "Bắt buộc", "This field is required.", "Trường này là bắt buộc."),
    "too_short": _e(
        "Too short", "Quá ngắn", "Must be at least {min_length} characters long.", "Cần ít nhất {min_length} ký tự."
    ),
    "too_long": _e(
        "Too long", "Quá dài", "Must be at most {max_length} characters long.", "Không được dài quá {max_length} ký tự."
    ),
    "too_few_items": _e(
        "Too few items", "Quá ít mục", "Give at least {min_length} item(s).", "Cần ít nhất {min_length} mục."
    ),
    "too_many_items": _e(
        "Too many items", "Quá nhiều mục", "Give at most {max_length} item(s).", "Không được quá {max_length} mục."
    ),
    "not_a_number": _e("Not a number", "Không phải số", "Must be a number.", "Phải là một số."),
    "not_an_integer": _e("Not a whole number", "Không phải số nguyên", "Must be a whole number.", "Phải là số nguyên."),
    "must_be_greater": _e("Too small", "Giá trị quá nhỏ", "Must be greater than {limit}.", "Phải lớn hơn {limit}."),
    "too_small": _e("Too small", "Giá trị quá nhỏ", "Must be at least {limit}.", "Phải lớn hơn hoặc bằng {limit}."),
    "must_be_less": _e("Too large", "Giá trị quá lớn", "Must be less than {limit}.", "Phải nhỏ hơn {limit}."),
    "too_large": _e("Too large", "Giá trị quá lớn", "Must be at most {limit}.", "Không được lớn hơn {limit}."),
    "too_many_decimals": _e(
        "Too many digits",
        "Quá nhiều chữ số",
        "Has too many digits or decimal places.",
        "Có quá nhiều chữ số hoặc chữ số thập phân.",
    ),
    "unknown_field": _e(
        "Unknown field",
        "Trường không được hỗ trợ",
        "Unknown field; remove it (the API rejects fields it does not define).",
        "Trường không xác định; hãy bỏ trường này (API không nhận các trường ngoài định nghĩa).",
    ),
    "invalid_format": _e(
        "Invalid format", "Sai định dạng", "Does not have the expected format.", "Không đúng định dạng yêu cầu."
    ),
    "invalid_date": _e(
        "Invalid date",
        "Ngày không hợp lệ",
        "Must be a date written YYYY-MM-DD.",
        "Phải là ngày hợp lệ, viết theo dạng YYYY-MM-DD (năm-tháng-ngày).",
    ),
    "invalid_datetime": _e(
        "Invalid date and time",
        "Ngày giờ không hợp lệ",
        "Must be a date and time in ISO 8601 with its time zone.",
        "Phải là ngày giờ theo chuẩn ISO 8601, có múi giờ.",
    ),
    "invalid_uuid": _e(
        "Invalid identifier",
        "Mã định danh không hợp lệ",
        "Must be an identifier (UUID).",
        "Phải là mã định danh dạng UUID.",
    ),
    "not_a_boolean": _e(
        "Not true or false", "Không phải true/false", "Must be true or false.", "Phải là true hoặc false."
    ),
    "not_allowed_value": _e(
        "Value not allowed",
        "Giá trị không được chấp nhận",
        "Use one of: {expected}.",
        "Hãy dùng một trong các giá trị: {expected}.",
    ),
    "not_a_string": _e("Not text", "Không phải văn bản", "Must be text.", "Phải là chuỗi văn bản."),
    "not_a_list": _e("Not a list", "Không phải danh sách", "Must be a list.", "Phải là một danh sách."),
    "not_an_object": _e(
        "Not an object", "Không phải đối tượng", "Must be an object ({...}).", "Phải là một đối tượng JSON ({...})."
    ),
    "invalid_url": _e("Invalid URL", "URL không hợp lệ", "Must be a valid URL.", "Phải là một địa chỉ URL hợp lệ."),
    "invalid_email": _e(
        "Invalid e-mail address",
        "Địa chỉ email không hợp lệ",
        "Must be a valid e-mail address.",
        "Phải là một địa chỉ email hợp lệ.",
    ),
    "invalid": _e("Invalid value", "Giá trị không hợp lệ", "The value is not valid.", "Giá trị không hợp lệ."),
    "invalid_json": _e("Invalid JSON", "JSON không hợp lệ", "Not valid JSON.", "Không phải JSON hợp lệ."),
    "invalid_tax_code": _e(
        "Invalid tax code",
        "Mã số thuế không hợp lệ",
        "Not a valid Vietnamese tax code: expected 10 digits, or 13 written NNNNNNNNNN-NNN, with "
        "a correct check digit.",
        "Mã số thuế không hợp lệ: cần 10 chữ số, hoặc 13 chữ số viết dạng NNNNNNNNNN-NNN, với chữ số kiểm tra đúng.",
    ),
    "null_not_allowed": _e(
        "Null not allowed",
        "Không được gửi null",
        "May not be null; leave the field out to keep its value.",
        "Không được để giá trị null; hãy bỏ trường này nếu muốn giữ nguyên giá trị.",
    ),
    "control_characters": _e(
        "Control characters",
        "Ký tự điều khiển",
        "Must not contain control characters.",
        "Không được chứa ký tự điều khiển.",
    ),
    "invalid_cursor": _e(
        "Invalid cursor",
        "Con trỏ phân trang không hợp lệ",
        "The cursor is not one this API issued for this list; start again without it.",
        "Con trỏ phân trang không do API cấp cho danh sách này; hãy tải lại từ đầu, không gửi cursor.",
    ),
    "date_out_of_range": _e(
        "Date out of range",
        "Ngày ngoài phạm vi",
        "The date is outside the accepted range.",
        "Ngày nằm ngoài phạm vi cho phép.",
    ),
    "strict_date": _e(
        "Date expected",
        "Cần giá trị ngày",
        "Must be a date written YYYY-MM-DD (no time, no number).",
        "Phải là ngày viết dạng YYYY-MM-DD (không kèm giờ, không phải số).",
    ),
    "strict_boolean": _e(
        "True or false expected",
        "Cần giá trị true/false",
        "Must be the JSON value true or false (not text, not a number).",
        "Phải là giá trị JSON true hoặc false (không phải chuỗi hay số).",
    ),
    "database_unavailable": _e(
        "Database unavailable",
        "Cơ sở dữ liệu tạm thời không khả dụng",
        "The database is temporarily unavailable; try again shortly.",
        "Cơ sở dữ liệu tạm thời không khả dụng; vui lòng thử lại sau ít phút.",
    ),
    "value_not_storable": _e(
        "Value cannot be stored",
        "Giá trị không lưu được",
        "A value is outside what can be stored (too large, too long or not a valid date).",
        "Có giá trị vượt quá giới hạn lưu trữ (quá lớn, quá dài hoặc không phải ngày hợp lệ).",
    ),
    "concurrent_write": _e(
        "Changed at the same moment",
        "Bị thay đổi cùng lúc",
        "Another change to the same records was saved at the same moment; read them again and retry.",
        "Một thay đổi khác trên cùng dữ liệu vừa được lưu cùng lúc; hãy tải lại rồi thử lại.",
    ),
    "duplicate_header": _e(
        "Duplicate header",
        "Tiêu đề bị lặp",
        "A header that may appear only once was sent more than once.",
        "Một tiêu đề HTTP chỉ được xuất hiện một lần nhưng đã được gửi nhiều lần.",
    ),
    "conflicting_headers": _e(
        "Conflicting headers",
        "Tiêu đề mâu thuẫn",
        "The request has both 'Content-Length' and 'Transfer-Encoding'; send exactly one.",
        "Yêu cầu có cả 'Content-Length' và 'Transfer-Encoding'; chỉ gửi một trong hai.",
    ),
    "event_publisher_not_allowed": _e(
        "Publisher not allowed",
        "Nguồn sự kiện không được phép",
        "This client may not publish events of this type.",
        "Ứng dụng này không được phép gửi loại sự kiện này.",
    ),
    "future_date": _e(
        "Date in the future",
        "Ngày trong tương lai",
        "Cannot be in the future (today is {today} in Hanoi).",
        "Không được là ngày trong tương lai (hôm nay là {today}, giờ Hà Nội).",
    ),
    "duplicate": _e("Already used", "Đã được sử dụng", "This value is already used.", "Giá trị này đã được sử dụng."),
    # ---- tokens, roles and the gateway ------------------------------------------------------------------------
    "no_enterprise_account": _e(
        "Forbidden",
        "Tài khoản chưa gắn với doanh nghiệp",
        "Your account is not linked to an enterprise (no tax_code in the token).",
        "Tài khoản của bạn chưa được liên kết với doanh nghiệp nào (mã truy cập không có mã số thuế).",
    ),
    "role_not_allowed": _e(
        "Forbidden",
        "Vai trò không được phép",
        "Your roles ({roles}) may not {verb} {prefix}; this needs one of: {allowed}.",
        "Vai trò của bạn ({roles}) không được thực hiện thao tác này trên {prefix}; cần một "
        "trong các vai trò: {allowed}.",
    ),
    "service_account_not_public": _e(
        "Forbidden",
        "Tài khoản dịch vụ không dùng qua cổng công khai",
        "Service accounts call the services directly, not through the public gateway.",
        "Tài khoản dịch vụ gọi trực tiếp các dịch vụ, không đi qua cổng API công khai.",
    ),
    "dot_segment_path": _e(
        "Bad request",
        "Đường dẫn không hợp lệ",
        "Paths with '.' or '..' segments are not accepted.",
        "Không chấp nhận đường dẫn có đoạn '.' hoặc '..'.",
    ),
    "no_route": _e("Not found", "Không tìm thấy", "No API route for {path}.", "Không có địa chỉ API {path}."),
    "origin_not_allowed": _e(
        "Forbidden",
        "Nguồn truy cập không được phép",
        "This origin may not call the API from a browser.",
        "Trang web này không được phép gọi API từ trình duyệt.",
    ),
    "upstream_unreachable": _e(
        "Bad gateway",
        "Không kết nối được dịch vụ",
        "The {service} service is unreachable.",
        "Không kết nối được tới dịch vụ {service}.",
    ),
    "upstream_invalid_answer": _e(
        "Bad gateway",
        "Dịch vụ trả lời không hợp lệ",
        "The {service} service gave no valid answer.",
        "Dịch vụ {service} không trả lời hợp lệ.",
    ),
    "upstream_broke_off": _e(
        "Bad gateway",
        "Dịch vụ ngắt câu trả lời",
        "The {service} service broke off its answer.",
        "Dịch vụ {service} đã ngắt giữa chừng khi đang trả lời.",
    ),
    # ---- registry --------------------------------------------------------------------------------------------
    "registry_read_forbidden": _e(
        "Forbidden",
        "Không có quyền xem",
        "Your role cannot read the facility registry.",
        "Vai trò của bạn không được xem hệ thống đăng ký cơ sở.",
    ),
    "registry_write_forbidden": _e(
        "Forbidden",
        "Không có quyền sửa",
        "Your role may read the registry but not change it.",
        "Vai trò của bạn chỉ được xem, không được thay đổi hệ thống đăng ký.",
    ),
    "record_not_found": _e(
        "Not found", "Không tìm thấy", "{what} does not exist.", "Không tìm thấy bản ghi được yêu cầu ({what})."
    ),
    "identity_provider_unavailable": _e(
        "Service unavailable",
        "Hệ thống đăng nhập không khả dụng",
        "The identity provider is unreachable or failed the request; try again later.",
        "Hệ thống quản lý đăng nhập không truy cập được hoặc xử lý lỗi; vui lòng thử lại sau.",
    ),
    "login_exists": _e(
        "Conflict",
        "Tài khoản đã tồn tại",
        "A login named '{username}' or with e-mail '{email}' already exists.",
        "Đã có tài khoản đăng nhập tên '{username}' hoặc dùng email '{email}'.",
    ),
    "accounts_not_configured": _e(
        "Service unavailable",
        "Chưa cấu hình tạo tài khoản",
        "Enterprise accounts need REGISTRY_SERVICE_CLIENT_ID and _SECRET.",
        "Chức năng tạo tài khoản doanh nghiệp cần cấu hình REGISTRY_SERVICE_CLIENT_ID và _SECRET.",
    ),
    "period_overlap": _e(
        "Unprocessable content",
        "Kỳ số liệu bị trùng",
        "The period {period} overlaps the period {other} already recorded.",
        "Kỳ {period} trùng với kỳ {other} đã được ghi nhận.",
    ),
    "tax_code_not_yours": _e(
        "Forbidden",
        "Chỉ đăng ký doanh nghiệp của mình",
        "You can register only the enterprise whose tax code your account belongs to, "
        "or its branch units ({tax_code}-NNN).",
        "Bạn chỉ được đăng ký doanh nghiệp có mã số thuế gắn với tài khoản của mình "
        "hoặc các đơn vị phụ thuộc của doanh nghiệp ({tax_code}-NNN).",
    ),
    "not_yours": _e(
        "Forbidden",
        "Không phải doanh nghiệp của bạn",
        "Not your enterprise or one of its branch units.",
        "Không phải doanh nghiệp của bạn hoặc đơn vị phụ thuộc của doanh nghiệp.",
    ),
    "enterprise_register_forbidden": _e(
        "Forbidden",
        "Không có quyền đăng ký doanh nghiệp",
        "Only officers and the enterprise itself can register an enterprise.",
        "Chỉ cán bộ Sở và chính doanh nghiệp mới được đăng ký doanh nghiệp.",
    ),
    "duplicate_tax_code": _e(
        "Conflict",
        "Mã số thuế đã được đăng ký",
        "An enterprise with tax code {tax_code} is already registered.",
        "Doanh nghiệp có mã số thuế {tax_code} đã được đăng ký.",
    ),
    "unknown_sector": _e(
        "Unprocessable content",
        "Ngành không có trong danh mục",
        "Sector '{sector}' is not in the sector list (GET /api/v1/sectors).",
        "Ngành '{sector}' không có trong danh mục ngành (GET /api/v1/sectors).",
    ),
    "sector_exists": _e(
        "Conflict", "Ngành đã tồn tại", "Sector '{sector}' exists already.", "Ngành '{sector}' đã có trong danh mục."
    ),
    "norm_overlap": _e(
        "Conflict",
        "Định mức bị trùng thời gian",
        "A norm for this sector, product and band already covers {period}.",
        "Đã có định mức cho ngành, sản phẩm và quy mô này trong khoảng {period}.",
    ),
    "norm_not_found": _e(
        "Not found",
        "Không tìm thấy định mức",
        "No norm for sector '{sector}', product '{product}'{band} is in force on {on}. Check the "
        "product name and band with GET /api/v1/norms.",
        "Không có định mức nào cho ngành '{sector}', sản phẩm '{product}' (và quy mô đã chọn) có "
        "hiệu lực vào ngày {on}. Hãy kiểm tra tên sản phẩm và quy mô bằng GET /api/v1/norms.",
    ),
    "ambiguous_band": _e(
        "Unprocessable content",
        "Cần chỉ rõ quy mô",
        "Several capacity bands apply ({bands}); give capacity_band or capacity.",
        "Có nhiều quy mô công suất phù hợp ({bands}); hãy gửi capacity_band hoặc capacity.",
    ),
    "period_too_long": _e(
        "Unprocessable content",
        "Kỳ số liệu quá dài",
        "The period is longer than allowed ({max_days} days at most).",
        "Kỳ số liệu dài quá mức cho phép (tối đa {max_days} ngày).",
    ),
    "evidence_missing": _e(
        "Unprocessable content",
        "Thiếu chứng cứ",
        "Evidence needs a document_id or a url (and a description).",
        "Chứng cứ cần có document_id hoặc url (kèm mô tả).",
    ),
    "invalid_capacity_band": _e(
        "Unprocessable content",
        "Quy mô công suất không hợp lệ",
        "Capacity band '{band}' is not understood; write e.g. '<20 million L/yr' or '20-100 t/yr'.",
        "Không hiểu quy mô công suất '{band}'; hãy viết ví dụ '<20 million L/yr' hoặc '20-100 t/yr'.",
    ),
    "person_name_characters": _e(
        "Unprocessable content",
        "Tên có ký tự không được phép",
        "A person's name may not contain '{character}' (nor < > & \" $ % ! # ? § ; * ~ / \\ | ^ = [ ] {{ }} ( ) or "
        "control characters).",
        "Tên người không được chứa ký tự '{character}' (cũng như < > & \" $ % ! # ? § ; * ~ / \\ | ^ = [ ] {{ }} ( ) "
        "hay ký tự điều khiển).",
    ),
    "identity_provider_refused": _e(
        "Unprocessable content",
        "Hệ thống đăng nhập từ chối giá trị",
        "The identity provider refused a value: {reason}.",
        "Hệ thống quản lý đăng nhập từ chối một giá trị đã nhập ({reason}); hãy kiểm tra lại.",
    ),
    "invalid_username": _e(
        "Unprocessable content",
        "Tên đăng nhập không hợp lệ",
        "Use lower-case letters, digits, '.', '_' or '-' (start with a letter or digit).",
        "Chỉ dùng chữ thường không dấu, chữ số, '.', '_' hoặc '-' (bắt đầu bằng chữ hoặc số).",
    ),
    # ---- applications: calls ---------------------------------------------------------------------------------
    "call_not_found": _e(
        "Not found",
        "Không tìm thấy đợt hỗ trợ",
        "Call {call_id} does not exist.",
        "Không tồn tại đợt hỗ trợ {call_id}.",
    ),
    "unknown_call": _e(
        "Unprocessable content",
        "Đợt hỗ trợ không tồn tại",
        "Call {call_id} does not exist.",
        "Không tồn tại đợt hỗ trợ {call_id}.",
    ),
    "call_closed": _e(
        "Call closed",
        "Đợt hỗ trợ đã kết thúc",
        "Call {call} closed on {closes_on}; drafts can be prepared only for open or upcoming calls.",
        "Đợt hỗ trợ {call} đã kết thúc ngày {closes_on}; chỉ có thể lập hồ sơ cho đợt đang mở hoặc sắp mở.",
    ),
    "duplicate_call_code": _e(
        "Conflict",
        "Mã đợt hỗ trợ đã được dùng",
        "A call with code '{call_code}' already exists; choose another code.",
        "Đã có đợt hỗ trợ mang mã '{call_code}'; vui lòng chọn mã khác.",
    ),
    "closes_before_opens": _e(
        "Unprocessable content",
        "Ngày kết thúc trước ngày mở",
        "closes_on must be on or after opens_on.",
        "Ngày kết thúc (closes_on) phải bằng hoặc sau ngày mở (opens_on).",
    ),
    "call_already_closed": _e(
        "Unprocessable content",
        "Đợt hỗ trợ đã kết thúc",
        "A call cannot be created already closed: closes_on must be today ({today}) or later.",
        "Không thể tạo đợt hỗ trợ đã kết thúc: ngày kết thúc phải từ hôm nay ({today}) trở đi.",
    ),
    "budget_below_committed": _e(
        "Conflict",
        "Ngân sách thấp hơn số đã cam kết",
        "The budget cannot go below what is already committed to approved applications ({committed} VND).",
        "Ngân sách không được thấp hơn số kinh phí đã cam kết cho các hồ sơ được duyệt ({committed} đồng).",
    ),
    "rubric_in_use": _e(
        "Conflict",
        "Tiêu chí chấm điểm đang được dùng",
        "The scoring rubric cannot change once reviewers have scored applications of this call.",
        "Không thể thay đổi tiêu chí chấm điểm khi chuyên gia đã chấm hồ sơ của đợt hỗ trợ này.",
    ),
    "duplicate_criterion": _e(
        "Unprocessable content",
        "Tiêu chí bị lặp",
        "Criterion codes must be unique; repeated: {repeated}.",
        "Mã tiêu chí không được trùng nhau; bị lặp: {repeated}.",
    ),
    "duplicate_sector": _e(
        "Unprocessable content",
        "Ngành bị lặp",
        "eligible_sectors lists a sector more than once.",
        "Danh sách ngành được hỗ trợ (eligible_sectors) có ngành bị lặp.",
    ),
    # ---- applications: drafts, submission and the lifecycle ---------------------------------------------------
    "application_not_found": _e(
        "Not found",
        "Không tìm thấy hồ sơ",
        "Application {application_id} does not exist.",
        "Không tồn tại hồ sơ {application_id}.",
    ),
    "facility_not_yours": _e(
        "Not found",
        "Không tìm thấy cơ sở",
        "Facility {facility_id} is not one of your enterprise's facilities in the registry.",
        "Cơ sở {facility_id} không thuộc doanh nghiệp của bạn trong hệ thống đăng ký.",
    ),
    "facility_inactive": _e(
        "Unprocessable content",
        "Cơ sở không hoạt động",
        "Facility {facility_id} is '{facility_status}' in the registry; only active facilities can apply.",
        "Cơ sở {facility_id} đang ở trạng thái '{facility_status}' trong hệ thống đăng ký; chỉ "
        "cơ sở đang hoạt động mới được nộp hồ sơ.",
    ),
    "upstream_unavailable": _e(
        "Service unavailable",
        "Dịch vụ liên quan không trả lời",
        "A service this one relies on is not reachable right now; try again in a moment.",
        "Một dịch vụ liên quan tạm thời không trả lời; vui lòng thử lại sau giây lát.",
    ),
    "not_your_application": _e(
        "Forbidden",
        "Không phải hồ sơ của doanh nghiệp bạn",
        "Only staff of the applying enterprise may edit the application.",
        "Chỉ nhân viên của doanh nghiệp nộp hồ sơ mới được sửa hồ sơ này.",
    ),
    "not_editable": _e(
        "Conflict",
        "Hồ sơ không sửa được",
        "The application is '{status}'; it can be edited only as a draft or when changes were requested.",
        "Hồ sơ đang ở trạng thái '{status}'; chỉ sửa được khi còn là bản nháp hoặc khi được yêu cầu bổ sung.",
    ),
    "showcase_needs_verification": _e(
        "Conflict",
        "Dự án chưa được thẩm định đạt",
        "The application is '{status}'; a project can be shown as a showcase only once its savings are verified.",
        "Hồ sơ đang ở trạng thái '{status}'; chỉ dự án đã được thẩm định đạt mức "
        "tiết kiệm mới được giới thiệu công khai.",
    ),
    "handbook_not_pdf": _e(
        "Unsupported media type",
        "Sổ tay phải là tệp PDF",
        "{filename} is not a PDF: handbooks are published as PDF files.",
        "{filename} không phải tệp PDF: sổ tay và tài liệu hướng dẫn được công bố dưới dạng PDF.",
    ),
    "handbook_not_found": _e(
        "Not found",
        "Không tìm thấy sổ tay",
        "There is no handbook (or no such version of handbook) {handbook_id}.",
        "Không có sổ tay (hoặc phiên bản sổ tay) {handbook_id}.",
    ),
    "application_incomplete": _e(
        "Application incomplete",
        "Hồ sơ chưa đầy đủ",
        "The application cannot be submitted yet; complete or correct: {fields}.",
        "Hồ sơ chưa thể nộp; cần bổ sung hoặc sửa: {fields}.",
    ),
    "eligible_exceeds_total": _e(
        "Unprocessable content",
        "Chi phí hợp lệ vượt tổng chi phí",
        "The eligible cost cannot be more than the total cost ({total} VND).",
        "Chi phí hợp lệ không được lớn hơn tổng chi phí ({total} đồng).",
    ),
    "requested_exceeds_eligible": _e(
        "Unprocessable content",
        "Kinh phí đề nghị vượt chi phí hợp lệ",
        "The requested support cannot be more than the eligible cost ({eligible} VND).",
        "Kinh phí đề nghị hỗ trợ không được lớn hơn chi phí hợp lệ ({eligible} đồng).",
    ),
    "end_before_start": _e(
        "Unprocessable content",
        "Ngày kết thúc trước ngày bắt đầu",
        "The end date cannot be before the start date ({start}).",
        "Ngày kết thúc không được trước ngày bắt đầu ({start}).",
    ),
    "completed_before_start": _e(
        "Unprocessable content",
        "Ngày hoàn thành trước ngày bắt đầu",
        "completed_on cannot be before the start ({started_on}).",
        "Ngày hoàn thành không được trước ngày bắt đầu thực hiện ({started_on}).",
    ),
    "duplicate_carrier": _e(
        "Unprocessable content",
        "Loại năng lượng bị lặp",
        "Each carrier may be claimed once; repeated: {repeated}.",
        "Mỗi loại năng lượng, nhiên liệu chỉ được kê một lần; bị lặp: {repeated}.",
    ),
    "unknown_carrier": _e(
        "Unprocessable content",
        "Loại năng lượng không hợp lệ",
        "Unknown carrier '{carrier}'; use one of {carriers}.",
        "Không có loại năng lượng, nhiên liệu '{carrier}'; hãy chọn một trong: {carriers}.",
    ),
    "unit_not_for_carrier": _e(
        "Unprocessable content",
        "Đơn vị không phù hợp",
        "Unit '{unit}' does not fit carrier '{carrier}'; use one of {units}.",
        "Đơn vị '{unit}' không phù hợp với '{carrier}'; hãy dùng một trong: {units}.",
    ),
    "unknown_unit": _e(
        "Unprocessable content",
        "Đơn vị không hợp lệ",
        "Unknown unit '{unit}'; use one of {units}.",
        "Không có đơn vị '{unit}'; hãy dùng một trong: {units}.",
    ),
    "role_may_not_act": _e(
        "Forbidden",
        "Vai trò không được thực hiện",
        "Your role may not '{action}' an application.",
        "Vai trò của bạn không được thực hiện thao tác '{action}' trên hồ sơ.",
    ),
    "invalid_transition": _e(
        "Transition not allowed",
        "Không thể chuyển trạng thái",
        "This application is '{status}', and '{action}' is not possible from there. Possible: {allowed}.",
        "Hồ sơ đang ở trạng thái '{status}', không thể thực hiện '{action}'. Có thể thực hiện: {allowed}.",
    ),
    "dossier_numbers_exhausted": _e(
        "Service unavailable",
        "Đã hết số hồ sơ trong ngày",
        "Today's 9 999 dossier numbers are used up; submit again tomorrow.",
        "Đã dùng hết 9.999 số hồ sơ của hôm nay; vui lòng nộp lại vào ngày mai.",
    ),
    # ---- applications: documents -----------------------------------------------------------------------------
    "verifier_attaches_evidence_only": _e(
        "Forbidden",
        "Chỉ được đính kèm bằng chứng đo đạc",
        "A verifier attaches measurement evidence (kind measurement_evidence) only.",
        "Chuyên gia thẩm tra chỉ được đính kèm tài liệu loại bằng chứng đo đạc (measurement_evidence).",
    ),
    "attach_forbidden": _e(
        "Forbidden",
        "Không có quyền đính kèm",
        "Only the applying enterprise's staff or an officer may attach documents.",
        "Chỉ nhân viên doanh nghiệp nộp hồ sơ hoặc cán bộ Sở mới được đính kèm tài liệu.",
    ),
    "not_accepting_documents": _e(
        "Conflict",
        "Hồ sơ không nhận thêm tài liệu",
        "Documents cannot be attached while the application is '{status}'.",
        "Không thể đính kèm tài liệu khi hồ sơ đang ở trạng thái '{status}'.",
    ),
    "document_not_found": _e(
        "Not found",
        "Không tìm thấy tài liệu",
        "Document {document_id} does not exist.",
        "Không tồn tại tài liệu {document_id}.",
    ),
    "unknown_document_kind": _e(
        "Unprocessable content",
        "Loại tài liệu không hợp lệ",
        "Unknown document kind '{kind}'; use one of {kinds}.",
        "Loại tài liệu '{kind}' không hợp lệ; hãy chọn một trong: {kinds}.",
    ),
    "file_too_large": _e(
        "Payload too large",
        "Tệp quá lớn",
        "The file is larger than the limit of {max_bytes} bytes ({max_mib} MiB); compress or split it.",
        "Tệp lớn hơn giới hạn {max_bytes} byte ({max_mib} MiB); hãy nén hoặc chia nhỏ tệp.",
    ),
    "multipart_required": _e(
        "Unsupported media type",
        "Cần gửi dạng multipart",
        "Upload the file as multipart/form-data, in a part named 'file'.",
        "Hãy tải tệp lên dạng multipart/form-data, trong phần có tên 'file'.",
    ),
    "file_missing": _e(
        "Unprocessable content",
        "Chưa có tệp",
        "The upload has no file: send it in a multipart part named 'file' with a filename.",
        "Chưa có tệp nào được tải lên: hãy gửi tệp trong phần 'file', kèm tên tệp.",
    ),
    "file_empty": _e("Unprocessable content", "Tệp rỗng", "The file is empty.", "Tệp không có nội dung."),
    "unsupported_file_type": _e(
        "Unsupported media type",
        "Loại tệp không được chấp nhận",
        "'{filename}' {what}; only {allowed} files are accepted (checked by content, not by name).",
        "Tệp '{filename}' không được chấp nhận; chỉ nhận tệp {allowed} (kiểm tra theo nội dung, không theo tên tệp).",
    ),
    "file_extension_mismatch": _e(
        "Unsupported media type",
        "Tên tệp không khớp nội dung",
        "'{filename}' is named like a {extension} file but its content is a {actual}; "
        "rename it to {expected} or upload the right file.",
        "Tệp '{filename}' có đuôi {extension} nhưng nội dung là {actual}; hãy đổi đuôi "
        "thành {expected} hoặc tải lên đúng tệp.",
    ),
    "malformed_multipart": _e(
        "Bad request",
        "Nội dung multipart bị lỗi",
        "The multipart body is malformed or ended before its closing boundary.",
        "Nội dung multipart bị lỗi hoặc kết thúc trước ranh giới đóng (tải lên bị cắt?).",
    ),
    "upload_interrupted": _e(
        "Bad request",
        "Tải lên bị gián đoạn",
        "The upload was interrupted before it finished.",
        "Việc tải lên bị gián đoạn trước khi hoàn tất.",
    ),
    "multiple_files": _e(
        "Bad request",
        "Nhiều tệp trong một lần tải",
        "Send one file per upload (one part named 'file').",
        "Mỗi lần chỉ tải lên một tệp (một phần có tên 'file').",
    ),
    "form_field_not_utf8": _e(
        "Bad request",
        "Trường biểu mẫu không phải UTF-8",
        "Form field '{field}' is not UTF-8 text.",
        "Trường biểu mẫu '{field}' không phải văn bản UTF-8.",
    ),
    "content_missing": _e(
        "Not found",
        "Mất nội dung tài liệu",
        "The document is recorded but its content is missing from storage; an administrator has been alerted.",
        "Tài liệu đã được ghi nhận nhưng nội dung không còn trong kho lưu trữ; quản trị viên đã được thông báo.",
    ),
    # ---- applications: reviews and decisions -----------------------------------------------------------------
    "not_under_review": _e(
        "Conflict",
        "Hồ sơ không ở giai đoạn thẩm định",
        "{what} is possible only while the application is under review; it is '{status}'.",
        "Chỉ thực hiện được khi hồ sơ đang được thẩm định; hồ sơ đang ở trạng thái '{status}'.",
    ),
    "not_assigned": _e(
        "Forbidden",
        "Không được phân công",
        "You are not assigned to review this application.",
        "Bạn không được phân công thẩm định hồ sơ này.",
    ),
    "reviewer_already_assigned": _e(
        "Conflict",
        "Chuyên gia đã được phân công",
        "{reviewer} is already assigned to this application.",
        "{reviewer} đã được phân công thẩm định hồ sơ này.",
    ),
    "already_declared": _e(
        "Conflict",
        "Đã khai báo",
        "The declaration was already made; a declaration is final.",
        "Bạn đã khai báo rồi; bản khai báo là cuối cùng, không sửa được.",
    ),
    "declaration_required": _e(
        "Conflict",
        "Cần khai báo xung đột lợi ích",
        "Declare whether you have a conflict of interest first (POST .../reviews/declaration), then score.",
        "Hãy khai báo có hay không xung đột lợi ích trước (POST .../reviews/declaration), sau đó mới chấm điểm.",
    ),
    "recused": _e(
        "Forbidden",
        "Đã tự rút khỏi thẩm định",
        "You declared a conflict of interest on this application, so you cannot score it.",
        "Bạn đã khai báo xung đột lợi ích với hồ sơ này nên không được chấm điểm.",
    ),
    "already_reviewed": _e(
        "Conflict",
        "Đã chấm điểm",
        "You have already scored this application; a review is final.",
        "Bạn đã chấm điểm hồ sơ này; kết quả chấm là cuối cùng, không sửa được.",
    ),
    "scores_invalid": _e(
        "Unprocessable content",
        "Điểm không khớp tiêu chí",
        "The scores do not fit the call's rubric; see errors[].",
        "Điểm chấm không khớp với bộ tiêu chí của đợt hỗ trợ; xem chi tiết trong errors[].",
    ),
    "missing": _e(
        "Missing",
        "Còn thiếu",
        "Nothing was given for this item (e.g. no score for a criterion).",
        "Chưa có giá trị cho mục này (ví dụ: tiêu chí chưa được chấm điểm).",
    ),
    "unknown_criterion": _e(
        "Unknown criterion",
        "Tiêu chí không có",
        "The call's rubric has no such criterion.",
        "Bộ tiêu chí của đợt hỗ trợ không có tiêu chí này.",
    ),
    "out_of_range": _e(
        "Out of range",
        "Ngoài phạm vi",
        "The value is outside its allowed range (e.g. a score outside 0..maximum).",
        "Giá trị nằm ngoài phạm vi cho phép (ví dụ: điểm ngoài thang từ 0 đến điểm tối đa).",
    ),
    "decider_is_reviewer": _e(
        "Four-eyes rule",
        "Nguyên tắc bốn mắt",
        "The deciding officer is assigned to this application as a reviewer; another officer must decide.",
        "Cán bộ ra quyết định đang là chuyên gia thẩm định hồ sơ này; cần một cán bộ khác ra quyết định.",
    ),
    "not_enough_reviews": _e(
        "Decision not possible",
        "Chưa đủ ý kiến thẩm định",
        "Not enough counted reviews for a decision yet.",
        "Chưa đủ số ý kiến thẩm định hợp lệ để ra quyết định.",
    ),
    "below_pass_score": _e(
        "Decision not possible",
        "Chưa đạt điểm tối thiểu",
        "The mean review score is below the call's pass score.",
        "Điểm thẩm định trung bình thấp hơn điểm đạt của đợt hỗ trợ.",
    ),
    "zero_support": _e(
        "Decision not possible",
        "Không còn kinh phí hỗ trợ",
        "The support would be 0 VND (the call's budget is used up).",
        "Mức hỗ trợ sẽ bằng 0 đồng (ngân sách của đợt hỗ trợ đã hết).",
    ),
    "verdict_unreadable": _e(
        "Unprocessable content",
        "Kết quả thẩm tra không đọc được",
        "The verification.concluded event does not carry a readable verdict.",
        "Sự kiện verification.concluded không chứa kết quả thẩm tra đọc được.",
    ),
    # ---- applications: e-government integration -------------------------------------------------------------
    "dossier_not_found": _e(
        "Not found",
        "Không tìm thấy hồ sơ",
        "No dossier has the code {dossier_code}.",
        "Không có hồ sơ nào mang mã {dossier_code}.",
    ),
    "invalid_dossier_code": _e(
        "Unprocessable content",
        "Mã hồ sơ không hợp lệ",
        "Not a dossier code (<agency>-<YYMMDD>-<NNNN>).",
        "Không phải mã hồ sơ hợp lệ (dạng <mã cơ quan>-<YYMMDD>-<NNNN>).",
    ),
    "subscription_not_found": _e(
        "Not found",
        "Không tìm thấy đăng ký webhook",
        "Webhook subscription {subscription_id} does not exist.",
        "Không tồn tại đăng ký webhook {subscription_id}.",
    ),
    "delivery_not_found": _e(
        "Not found",
        "Không tìm thấy lần gửi",
        "Delivery {delivery_id} of subscription {subscription_id} does not exist.",
        "Không tồn tại lần gửi {delivery_id} của đăng ký {subscription_id}.",
    ),
    "webhook_key_missing": _e(
        "Service unavailable",
        "Chưa cấu hình khoá bí mật webhook",
        "Webhook secrets cannot be stored: APPLICATIONS_WEBHOOK_SECRET_KEY is not configured on this server.",
        "Không thể lưu khoá bí mật webhook: máy chủ chưa cấu hình APPLICATIONS_WEBHOOK_SECRET_KEY.",
    ),
    "subscription_limit": _e(
        "Conflict",
        "Vượt số đăng ký webhook",
        "This client already has {count} webhook subscriptions (the limit); delete one first.",
        "Ứng dụng này đã có {count} đăng ký webhook (mức tối đa); hãy xoá bớt một đăng ký trước.",
    ),
    "officer_may_only_pause": _e(
        "Forbidden",
        "Chỉ được tạm dừng hoặc tiếp tục",
        "An officer may only pause or resume another client's subscription (field 'active').",
        "Cán bộ Sở chỉ được tạm dừng hoặc tiếp tục đăng ký webhook của ứng dụng khác (trường 'active').",
    ),
    "delivery_pending": _e(
        "Conflict",
        "Lần gửi đang chờ",
        "This delivery is still pending: it will be attempted again without help.",
        "Lần gửi này vẫn đang chờ: hệ thống sẽ tự gửi lại.",
    ),
    "invalid_pattern": _e(
        "Unprocessable content",
        "Mẫu loại sự kiện không hợp lệ",
        "This event type filter is not usable.",
        "Bộ lọc loại sự kiện này không dùng được.",
    ),
    "webhook_url_refused": _e(
        "Unprocessable content",
        "Địa chỉ webhook không được phép",
        "This webhook URL is not allowed: {reason}.",
        "Địa chỉ webhook này không được phép (xem mã lỗi của trường url trong errors[]).",
    ),
    "metadata_address": _e(
        "URL refused",
        "Địa chỉ bị từ chối",
        "The address is a cloud metadata endpoint.",
        "Địa chỉ là điểm cung cấp siêu dữ liệu của nền tảng đám mây.",
    ),
    "unspecified_address": _e(
        "URL refused",
        "Địa chỉ bị từ chối",
        "The address is not a destination address.",
        "Địa chỉ không phải là địa chỉ đích hợp lệ.",
    ),
    "multicast_address": _e(
        "URL refused", "Địa chỉ bị từ chối", "The address is a multicast address.", "Địa chỉ là địa chỉ multicast."
    ),
    "link_local_address": _e(
        "URL refused", "Địa chỉ bị từ chối", "The address is link-local.", "Địa chỉ thuộc dải link-local."
    ),
    "loopback_address": _e(
        "URL refused",
        "Địa chỉ bị từ chối",
        "The address is a loopback address (allowed in dev/test only).",
        "Địa chỉ là địa chỉ loopback (chỉ được dùng khi phát triển, kiểm thử).",
    ),
    "private_address": _e(
        "URL refused", "Địa chỉ bị từ chối", "The address is in a private range.", "Địa chỉ thuộc dải mạng nội bộ."
    ),
    "reserved_address": _e(
        "URL refused",
        "Địa chỉ bị từ chối",
        "The address is a reserved or documentation address.",
        "Địa chỉ thuộc dải dành riêng hoặc dùng cho tài liệu.",
    ),
    "scheme_not_allowed": _e(
        "URL refused", "Giao thức không được phép", "Webhook URLs use https.", "Địa chỉ webhook phải dùng https."
    ),
    "https_required": _e(
        "URL refused", "Cần dùng https", "Webhook URLs must use https.", "Địa chỉ webhook phải dùng https."
    ),
    "credentials_in_url": _e(
        "URL refused",
        "URL chứa thông tin đăng nhập",
        "Put no user name or password in the URL; verify the signature instead.",
        "Không đưa tên đăng nhập hay mật khẩu vào URL; hãy kiểm tra chữ ký thay vào đó.",
    ),
    "host_not_allowed": _e(
        "URL refused",
        "Máy chủ không được phép",
        "The host is not on the webhook host allow-list.",
        "Máy chủ không có trong danh sách được phép nhận webhook.",
    ),
    "unresolvable_host": _e(
        "URL refused",
        "Không phân giải được tên máy chủ",
        "The host name does not resolve.",
        "Không phân giải được tên máy chủ.",
    ),
    # ---- verification ----------------------------------------------------------------------------------------
    "verification_read_forbidden": _e(
        "Forbidden",
        "Không có quyền xem",
        "Your role cannot read verification cases.",
        "Vai trò của bạn không được xem hồ sơ thẩm tra.",
    ),
    "not_assigned_verifier": _e(
        "Forbidden",
        "Không phải người thẩm tra được phân công",
        "You are not the verifier assigned to this verification case.",
        "Bạn không phải người thẩm tra được phân công cho hồ sơ thẩm tra này.",
    ),
    "verifier_conflict_declared": _e(
        "Forbidden",
        "Đã khai báo xung đột lợi ích",
        "You declared a conflict of interest for this case; an officer must assign another verifier.",
        "Bạn đã khai báo xung đột lợi ích với hồ sơ này; cán bộ Sở cần phân công người thẩm tra khác.",
    ),
    "independence_declaration_required": _e(
        "Forbidden",
        "Cần khai báo tính độc lập",
        "Declare your independence from the enterprise and its technology "
        "supplier first (POST /api/v1/verifications/{{id}}/assignment/"
        "declaration).",
        "Hãy khai báo tính độc lập của bạn với doanh nghiệp và nhà cung cấp công "
        "nghệ trước (POST /api/v1/verifications/{{id}}/assignment/declaration).",
    ),
    "case_not_found": _e(
        "Not found",
        "Không tìm thấy hồ sơ thẩm tra",
        "Verification case {case_id} does not exist.",
        "Không tồn tại hồ sơ thẩm tra {case_id}.",
    ),
    "case_concluded": _e(
        "Conflict",
        "Thẩm tra đã kết thúc",
        "The verification is concluded; it can no longer change.",
        "Việc thẩm tra đã kết thúc; không thể thay đổi nữa.",
    ),
    "verifier_declared_conflict": _e(
        "Conflict",
        "Người thẩm tra đã khai báo xung đột",
        "{verifier} declared a conflict of interest for this case and cannot be "
        "assigned to it again; choose another verifier.",
        "{verifier} đã khai báo xung đột lợi ích với hồ sơ này nên không thể được phân "
        "công lại; hãy chọn người thẩm tra khác.",
    ),
    "verifier_already_assigned": _e(
        "Conflict",
        "Đã được phân công",
        "{verifier} is already the verifier of this case.",
        "{verifier} đã là người thẩm tra của hồ sơ này.",
    ),
    "no_open_assignment": _e(
        "Conflict",
        "Chưa có phân công",
        "The case has no open assignment; an officer must assign the verifier again.",
        "Hồ sơ chưa có phân công đang hiệu lực; cán bộ Sở cần phân công lại người thẩm tra.",
    ),
    "wrong_case_status": _e(
        "Conflict",
        "Trạng thái hồ sơ thẩm tra không phù hợp",
        "The case is '{status}'; this is possible while it is '{expected}'.",
        "Hồ sơ thẩm tra đang ở trạng thái '{status}'; thao tác này chỉ làm được khi ở trạng thái '{expected}'.",
    ),
    "claim_missing": _e(
        "Unprocessable content",
        "Thiếu mức tiết kiệm cam kết",
        "The case holds no claimed overall saving (the approval event did not carry one); the claim "
        "cannot be verified.",
        "Hồ sơ thẩm tra không có mức tiết kiệm cam kết (sự kiện phê duyệt không mang giá trị này); không thể thẩm tra.",
    ),
    "no_measurements": _e(
        "Unprocessable content",
        "Chưa có số liệu đo",
        "No measurement is recorded yet; record the reporting periods first.",
        "Chưa có số liệu đo nào; hãy ghi nhận số liệu các kỳ báo cáo trước.",
    ),
    "not_completed": _e(
        "Conflict",
        "Dự án chưa báo hoàn thành",
        "The project's completion has not been reported by the applications service yet (event "
        "application.completed); conclude after it arrives.",
        "Dịch vụ hồ sơ chưa báo dự án hoàn thành (sự kiện application.completed); hãy kết luận sau khi nhận được.",
    ),
    "review_required": _e(
        "Unprocessable content",
        "Cần người thẩm tra xem xét",
        "The computation asks for the verifier's review before concluding: {warnings}. Send "
        "review_note saying what you checked and why the figure stands.",
        "Kết quả tính toán cần người thẩm tra xem xét trước khi kết luận: {warnings}. Hãy gửi "
        "review_note nêu rõ đã kiểm tra gì và vì sao số liệu là đúng.",
    ),
    # ---- verification: M&V plan, fallbacks, dates (issue 15) -------------------------------------------------------
    "mv_plan_invalid": _e(
        "Unprocessable content",
        "Phương án đo lường không dùng được",
        "The M&V plan is not usable; see errors[].",
        "Phương án đo lường và thẩm tra không dùng được; xem chi tiết trong errors[].",
    ),
    "fallback_reason_required": _e(
        "Unprocessable content",
        "Cần giải trình phương pháp dự phòng",
        "The chosen baseline model could not be used and the figure does not normalise for {dropped} (method "
        "{method}). Send review_note saying why this fallback is acceptable.",
        "Không dùng được mô hình đường cơ sở đã chọn và kết quả không hiệu chỉnh theo {dropped} (phương pháp "
        "{method}). Hãy gửi review_note giải trình vì sao chấp nhận được phương pháp dự phòng này.",
    ),
    "dates_not_consistent": _e(
        "Unprocessable content",
        "Ngày tháng không hợp lý",
        "The dates of the periods do not fit the project's timeline; see errors[].",
        "Ngày tháng của các kỳ không phù hợp với tiến độ dự án; xem chi tiết trong errors[].",
    ),
    "reporting_before_completion": _e(
        "Unprocessable content",
        "Kỳ báo cáo bắt đầu quá sớm",
        "A reporting period starts on or after {first_day} (after the project's completion, or the reporting "
        "start an officer approved); this one starts {start}.",
        "Kỳ báo cáo phải bắt đầu từ ngày {first_day} (sau khi dự án hoàn thành, hoặc ngày bắt đầu báo cáo do "
        "cán bộ Sở phê duyệt); kỳ này bắt đầu ngày {start}.",
    ),
    "period_not_ended": _e(
        "Unprocessable content",
        "Kỳ chưa kết thúc",
        "The period ends {end}, which is not over yet (today is {today}); record it once it has ended.",
        "Kỳ này kết thúc ngày {end}, chưa qua (hôm nay là {today}); hãy ghi nhận sau khi kỳ kết thúc.",
    ),
    "baseline_after_implementation_start": _e(
        "Unprocessable content",
        "Kỳ cơ sở trùng thời gian thực hiện",
        "The baseline period ends {end}, not before the implementation started ({implementation_start}); the "
        "baseline describes the plant before the project.",
        "Kỳ cơ sở kết thúc ngày {end}, không trước ngày bắt đầu thực hiện dự án ({implementation_start}); "
        "đường cơ sở phải phản ánh cơ sở sản xuất trước dự án.",
    ),
    # ---- verification: corrections and non-routine adjustments (issue 15) ----------------------------------------
    "measurement_withdrawn": _e(
        "Conflict",
        "Số liệu đo đã rút lại",
        "Measurement {measurement_id} was withdrawn (revision {revision}); record the period again instead.",
        "Số liệu đo {measurement_id} đã được rút lại (lần sửa {revision}); hãy ghi nhận lại kỳ này thay vì sửa.",
    ),
    "adjustment_unusable": _e(
        "Unprocessable content",
        "Điều chỉnh không dùng được",
        "The adjustment cannot be converted to energy; see errors[].",
        "Không quy đổi được điều chỉnh ra năng lượng; xem chi tiết trong errors[].",
    ),
    "adjustment_not_found": _e(
        "Not found",
        "Không tìm thấy điều chỉnh",
        "Adjustment {adjustment_id} does not exist in verification case {case_id}.",
        "Không có điều chỉnh {adjustment_id} trong hồ sơ thẩm tra {case_id}.",
    ),
    "adjustment_decided": _e(
        "Conflict",
        "Điều chỉnh đã được quyết định",
        "The adjustment is already {status}; a decision is final.",
        "Điều chỉnh đã ở trạng thái {status}; quyết định là cuối cùng.",
    ),
    "adjustment_four_eyes": _e(
        "Forbidden",
        "Cần người thứ hai phê duyệt",
        "You recorded this adjustment; another officer must approve or reject it.",
        "Bạn là người ghi nhận điều chỉnh này; cần một cán bộ khác phê duyệt hoặc từ chối.",
    ),
    "adjustment_pending": _e(
        "Conflict",
        "Điều chỉnh đang chờ phê duyệt",
        "Non-routine adjustments await an officer's decision ({adjustments}); conclude after they are decided.",
        "Các điều chỉnh bất thường đang chờ cán bộ Sở quyết định ({adjustments}); hãy kết luận sau khi có quyết định.",
    ),
    "refreeze_not_found": _e(
        "Not found",
        "Không tìm thấy đề nghị chốt lại đường cơ sở",
        "Baseline re-freeze {refreeze_id} does not exist in verification case {case_id}.",
        "Không có đề nghị chốt lại đường cơ sở {refreeze_id} trong hồ sơ thẩm tra {case_id}.",
    ),
    "refreeze_confirmed": _e(
        "Conflict",
        "Đường cơ sở đã được chốt lại",
        "Baseline re-freeze {refreeze_id} is already confirmed.",
        "Đề nghị chốt lại đường cơ sở {refreeze_id} đã được xác nhận.",
    ),
    "refreeze_four_eyes": _e(
        "Forbidden",
        "Cần người thứ hai xác nhận",
        "You proposed this re-freeze; the case's verifier, another person, must confirm it.",
        "Bạn là người đề nghị chốt lại; người thẩm tra của hồ sơ, một người khác, phải xác nhận.",
    ),
    "savings_not_computable": _e(
        "Unprocessable content",
        "Không tính được mức tiết kiệm",
        "The savings cannot be computed from these inputs; see errors[].",
        "Không tính được mức tiết kiệm từ các số liệu này; xem chi tiết trong errors[].",
    ),
    "result_not_yet_visible": _e(
        "Forbidden",
        "Chưa có kết quả",
        "Enterprises see the result once the verification is concluded.",
        "Doanh nghiệp chỉ xem được kết quả khi việc thẩm tra đã kết thúc.",
    ),
    "not_concluded": _e(
        "Not found",
        "Thẩm tra chưa kết thúc",
        "Verification case {case_id} is not concluded yet (status '{status}'); GET .../preview shows "
        "the computation on the current measurements.",
        "Hồ sơ thẩm tra {case_id} chưa kết thúc (trạng thái '{status}'); GET .../preview cho xem kết "
        "quả tính trên số liệu hiện có.",
    ),
    "measurement_unusable": _e(
        "Unprocessable content",
        "Số liệu đo không dùng được",
        "The measurement cannot be used; see errors[].",
        "Số liệu đo không dùng được; xem chi tiết trong errors[].",
    ),
    "measurement_not_found": _e(
        "Not found",
        "Không tìm thấy số liệu đo",
        "Measurement {measurement_id} does not exist in verification case {case_id}.",
        "Không có số liệu đo {measurement_id} trong hồ sơ thẩm tra {case_id}.",
    ),
    "invalid_value": _e(
        "Invalid value",
        "Giá trị không dùng được",
        "The value cannot be used for the savings computation.",
        "Giá trị này không dùng được để tính mức tiết kiệm.",
    ),
    "unsupported_carrier": _e(
        "Unsupported carrier",
        "Loại năng lượng chưa được hỗ trợ",
        "No conversion exists for this energy carrier.",
        "Chưa có hệ số quy đổi cho loại năng lượng, nhiên liệu này.",
    ),
    "invalid_period": _e(
        "Invalid period",
        "Kỳ số liệu không hợp lệ",
        "The period is not usable (dates, length or order).",
        "Kỳ số liệu không dùng được (ngày, độ dài hoặc thứ tự).",
    ),
    "overlap": _e(
        "Overlapping period",
        "Kỳ bị trùng",
        "Overlaps a period already recorded ({other}).",
        "Trùng với một kỳ đã được ghi nhận ({other}).",
    ),
    "measurement_overlap": _e(
        "Unprocessable content",
        "Kỳ đo bị trùng",
        "The period {period} overlaps measurement {measurement_id} ({other}); correct that "
        "one with a revision instead.",
        "Kỳ {period} trùng với số liệu đo {measurement_id} ({other}); hãy sửa số liệu đó bằng một bản điều chỉnh.",
    ),
    "range_order": _e(
        "Unprocessable content",
        "Khoảng thời gian không hợp lệ",
        "{end} is before {start}.",
        "{end} đứng trước {start}.",
    ),
    # ---- portal II (issue 14): draft reviews, bulk actions, exports -----------------------------------------
    "review_draft_not_found": _e(
        "Not found",
        "Chưa có bản nháp",
        "You have no saved draft of this review.",
        "Bạn chưa lưu bản nháp phiếu chấm điểm cho hồ sơ này.",
    ),
    "review_incomplete": _e(
        "Review incomplete",
        "Phiếu chấm chưa đầy đủ",
        "The review cannot be submitted yet; complete: {fields}.",
        "Chưa thể gửi phiếu chấm; cần bổ sung: {fields}.",
    ),
    # Supplement requests (issue 10)
    "supplement_already_open": _e(
        "Conflict",
        "Đang có yêu cầu bổ sung",
        "A supplement request is already open on this application; wait for its answer.",
        "Hồ sơ đang có một yêu cầu bổ sung chưa được trả lời; hãy chờ doanh nghiệp trả lời.",
    ),
    "supplement_open": _e(
        "Conflict",
        "Hồ sơ đang chờ bổ sung",
        "No decision while a supplement request is open: wait until every item is answered.",
        "Chưa thể quyết định khi hồ sơ đang chờ bổ sung: cần trả lời đủ các mục yêu cầu.",
    ),
    "supplement_request_not_found": _e(
        "Not found",
        "Không tìm thấy yêu cầu bổ sung",
        "Supplement request {request_id} does not exist on this application.",
        "Không tồn tại yêu cầu bổ sung {request_id} của hồ sơ này.",
    ),
    "supplement_item_not_found": _e(
        "Not found",
        "Không tìm thấy mục yêu cầu bổ sung",
        "Item {item_id} is not part of this supplement request.",
        "Mục {item_id} không thuộc yêu cầu bổ sung này.",
    ),
    "supplement_item_answered": _e(
        "Conflict",
        "Mục đã được trả lời",
        "Item {position} has already been answered (or the request is closed).",
        "Mục {position} đã được trả lời (hoặc yêu cầu đã đóng).",
    ),
    "supplement_answer_empty": _e(
        "Unprocessable content",
        "Chưa có nội dung trả lời",
        "Give an answer text, a document of this application, or both.",
        "Hãy nhập nội dung trả lời, chọn một tài liệu của hồ sơ, hoặc cả hai.",
    ),
    "supplement_document_unknown": _e(
        "Unprocessable content",
        "Tài liệu không thuộc hồ sơ",
        "The document is not attached to this application; upload it first.",
        "Tài liệu không thuộc hồ sơ này; hãy tải tài liệu lên trước.",
    ),
    "supplement_answer_forbidden": _e(
        "Forbidden",
        "Không được trả lời",
        "Only the applying enterprise answers a supplement request.",
        "Chỉ doanh nghiệp nộp hồ sơ mới được trả lời yêu cầu bổ sung.",
    ),
    # Messages on an application (issue 10)
    "message_not_found": _e(
        "Not found",
        "Không tìm thấy tin nhắn",
        "Message {message_id} does not exist on this application.",
        "Không tồn tại tin nhắn {message_id} của hồ sơ này.",
    ),
    "message_forbidden": _e(
        "Forbidden",
        "Không được gửi tin nhắn",
        "Only the Department's officers and the applying enterprise write in this thread.",
        "Chỉ cán bộ của Sở và doanh nghiệp nộp hồ sơ mới được gửi tin nhắn trong hồ sơ này.",
    ),
    "internal_message_forbidden": _e(
        "Forbidden",
        "Không được gửi tin nhắn nội bộ",
        "Internal messages are for the Department's staff; an enterprise writes shared messages.",
        "Tin nhắn nội bộ chỉ dành cho cán bộ của Sở; doanh nghiệp chỉ gửi tin nhắn chung.",
    ),
    "message_attachment_forbidden": _e(
        "Forbidden",
        "Không được đính kèm",
        "Only the author of a message attaches files to it.",
        "Chỉ người viết tin nhắn mới được đính kèm tệp vào tin nhắn đó.",
    ),
    # Notifications (issue 10)
    "notification_not_found": _e(
        "Not found",
        "Không tìm thấy thông báo",
        "Notification {notification_id} does not exist for you.",
        "Không có thông báo {notification_id} dành cho bạn.",
    ),
    "notification_statutory": _e(
        "Unprocessable content",
        "Không thể tắt thông báo bắt buộc",
        "'{kind}' is a statutory notification and cannot be switched off.",
        "'{kind}' là thông báo bắt buộc theo quy định, không thể tắt.",
    ),
    # ---- money: support types, funding sources, payments (applications, issue 15) ------------------------------
    "support_type_not_funded": _e(
        "Support type not funded",
        "Loại hình hỗ trợ không thuộc đợt",
        "This call does not fund {support_type}; it funds: {funded}.",
        "Đợt hỗ trợ này không hỗ trợ loại hình {support_type}; đợt hỗ trợ các loại hình: {funded}.",
    ),
    "duplicate_support_type": _e(
        "Invalid value",
        "Giá trị không hợp lệ",
        "support_types lists a type more than once.",
        "Danh sách loại hình hỗ trợ có loại hình bị lặp.",
    ),
    "documents_missing": _e(
        "Documents missing",
        "Thiếu tài liệu",
        "A {support_type} project needs these documents attached first: {kinds}.",
        "Dự án loại hình {support_type} cần đính kèm trước các tài liệu: {kinds}.",
    ),
    "document_required": _e(
        "Document required",
        "Thiếu tài liệu bắt buộc",
        "Attach a document of kind {kind}.",
        "Vui lòng đính kèm tài liệu loại {kind}.",
    ),
    "budget_not_sum_of_sources": _e(
        "Budget does not match its sources",
        "Ngân sách không khớp các nguồn",
        "budget_vnd must equal the sum of the funding sources' amounts ({total} VND).",
        "Ngân sách phải bằng tổng kinh phí của các nguồn ({total} đồng).",
    ),
    "duplicate_source_code": _e(
        "Source code already used",
        "Mã nguồn kinh phí đã dùng",
        "Each funding source of a call needs its own code.",
        "Mỗi nguồn kinh phí của một đợt hỗ trợ phải có mã riêng.",
    ),
    "source_type_not_in_call": _e(
        "Support type not in the call",
        "Loại hình hỗ trợ không thuộc đợt",
        "Source {source} funds support types the call does not fund: {support_types}.",
        "Nguồn {source} hỗ trợ loại hình mà đợt hỗ trợ không có: {support_types}.",
    ),
    "source_below_committed": _e(
        "Below what is committed",
        "Thấp hơn số đã cam kết",
        "Source {source} has {committed} VND committed to awards: its amount cannot be less.",
        "Nguồn {source} đã cam kết {committed} đồng cho các quyết định hỗ trợ: số tiền của nguồn không được thấp hơn.",
    ),
    "budget_set_by_sources": _e(
        "Budget made of several sources",
        "Ngân sách gồm nhiều nguồn",
        "This call's budget is the sum of several funding sources: change a source, not the budget.",
        "Ngân sách của đợt hỗ trợ là tổng của nhiều nguồn kinh phí: hãy thay đổi từng nguồn, không sửa ngân sách.",
    ),
    "tranche_not_found": _e(
        "Not found",
        "Không tìm thấy",
        "This application has no tranche {tranche_id}.",
        "Hồ sơ này không có đợt thanh toán {tranche_id}.",
    ),
    "payment_step_not_allowed": _e(
        "Step not allowed",
        "Không thực hiện được bước này",
        "A {kind} tranche that is {status} cannot be {step}.",
        "Không thể thực hiện bước {step} cho đợt {kind} đang ở trạng thái {status}.",
    ),
    "preparer_cannot_approve": _e(
        "Four-eyes rule",
        "Nguyên tắc bốn mắt",
        "You prepared this payment, so another person must approve it.",
        "Bạn đã lập đề nghị thanh toán này nên người khác phải phê duyệt.",
    ),
    "approver_cannot_mark_paid": _e(
        "Four-eyes rule",
        "Nguyên tắc bốn mắt",
        "You approved this payment, so another person must record that it was paid.",
        "Bạn đã phê duyệt khoản thanh toán này nên người khác phải ghi nhận đã chi.",
    ),
    "paid_amount_mismatch": _e(
        "Amount does not match",
        "Số tiền không khớp",
        "The amount paid must be the tranche's amount, {amount} VND.",
        "Số tiền đã chi phải bằng số tiền của đợt thanh toán, {amount} đồng.",
    ),
    "paid_before_approval": _e(
        "Date before the approval",
        "Ngày trước khi phê duyệt",
        "The payment cannot be dated before its approval ({approved_on}).",
        "Ngày chi không được trước ngày phê duyệt ({approved_on}).",
    ),
    "collection_exceeds_recovery": _e(
        "More than is due",
        "Vượt số phải thu hồi",
        "Only {due} VND of this recovery is still due.",
        "Khoản thu hồi này chỉ còn phải thu {due} đồng.",
    ),
}

CATALOGUE: MappingProxyType[str, Entry] = MappingProxyType(_CATALOGUE)


# ---- language negotiation ---------------------------------------------------------------------------------------

_RANGE = re.compile(r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([0-9](?:\.[0-9]{0,3})?))?\s*$")


def preferred_language(accept_language: str | None) -> str:
    """`vi` when the Accept-Language header (RFC 9110 §12.5.4) prefers Vietnamese to English, else `en`.
    Malformed parts are ignored; `*` counts as English (the default)."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    best: dict[str, float] = {}
    for position, part in enumerate(accept_language[:512].split(",")):
        match = _RANGE.match(part)
        if not match:
            continue
        tag, q = match.group(1).lower(), float(match.group(2)) if match.group(2) else 1.0
        language = "en" if tag == "*" else tag.split("-", 1)[0]
        if language in LANGUAGES and q > 0:
            # Equal weights: the one listed first wins (a tiny tie-breaker by position).
            best[language] = max(best.get(language, 0.0), q - position * 1e-6)
    if not best:
        return DEFAULT_LANGUAGE
    return max(best, key=lambda k: best[k])


# ---- rendering --------------------------------------------------------------------------------------------------


class _Params(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "…"  # a placeholder the raise did not fill: never an error while answering an error


def _value(value: Any, language: str) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and abs(value) >= 10_000:
        grouped = f"{value:,}"
        return grouped.replace(",", ".") if language == "vi" else grouped
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return value


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def format_text(template: str, params: dict[str, Any] | None, language: str) -> str:
    values = _Params({k: _value(v, language) for k, v in (params or {}).items()})
    try:
        return template.format_map(values)
    except (ValueError, IndexError, AttributeError, KeyError):
        return template


def title(code: str, language: str, default: str | None = None) -> str | None:
    entry = CATALOGUE.get(code)
    return entry.title(language) if entry else default


def message(code: str, language: str, params: dict[str, Any] | None = None, default: str | None = None) -> str | None:
    entry = CATALOGUE.get(code)
    return format_text(entry.message(language), params, language) if entry else default


# ---- the generated document ---------------------------------------------------------------------------------------


def _literal(template: str) -> str:
    return template.replace("{{", "{").replace("}}", "}")  # escaped braces show as written


def markdown() -> str:
    """docs/error-codes.md, generated: `python -m cleanprod_kit.messages > docs/error-codes.md`."""
    lines = [
        "# Error codes",
        "",
        "<!-- Generated from libs/kit/src/cleanprod_kit/messages.py by `python -m cleanprod_kit.messages`; "
        "do not edit by hand. -->",
        "",
        "Every `application/problem+json` answer carries a top-level `code`, and each entry of `errors[]` a "
        "`code`, from this list. `title`, `detail` and field `message`s are in Vietnamese when the request's "
        "`Accept-Language` prefers `vi`, in English otherwise. `{name}` marks a value filled in per answer.",
        "",
        "| code | title (en) | title (vi) | message (en) | message (vi) |",
        "|---|---|---|---|---|",
    ]
    for code in sorted(CATALOGUE):
        entry = CATALOGUE[code]
        cells = [f"`{code}`", entry.title_en, entry.title_vi, _literal(entry.en), _literal(entry.vi)]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - the generator
    import sys

    sys.stdout.write(markdown())
