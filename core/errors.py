"""Typed errors: a stable code for the app to branch on and a message in Vietnamese and English.

Domain code raises `DomainError`; the GraphQL layer turns it into a typed result (mutations) or an error
with `extensions.code` (queries). Nothing here knows about GraphQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    INVALID_CURSOR = "INVALID_CURSOR"
    PAGE_SIZE_TOO_LARGE = "PAGE_SIZE_TOO_LARGE"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    NOT_WITHDRAWABLE = "NOT_WITHDRAWABLE"
    PROCEDURE_NOT_AVAILABLE = "PROCEDURE_NOT_AVAILABLE"
    INVALID_ID_NUMBER = "INVALID_ID_NUMBER"
    DAILY_SEQUENCE_EXHAUSTED = "DAILY_SEQUENCE_EXHAUSTED"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    # Per-field form errors (submitDossier).
    REQUIRED = "REQUIRED"
    INVALID_TYPE = "INVALID_TYPE"
    INVALID_FORMAT = "INVALID_FORMAT"
    INVALID_LENGTH = "INVALID_LENGTH"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    NOT_ALLOWED_VALUE = "NOT_ALLOWED_VALUE"
    UNKNOWN_FIELD = "UNKNOWN_FIELD"
    INVALID_VALUE = "INVALID_VALUE"
    AGENCY_UNAVAILABLE = "AGENCY_UNAVAILABLE"
    AGENCY_TIMEOUT = "AGENCY_TIMEOUT"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    # Persisted documents (mobile contract).
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
    PERSISTED_QUERY_REQUIRED = "PERSISTED_QUERY_REQUIRED"
    # Offline sync.
    SYNC_CLIENT_NOT_OWNED = "SYNC_CLIENT_NOT_OWNED"
    SCHEMA_VERSION_UNSUPPORTED = "SCHEMA_VERSION_UNSUPPORTED"
    TOO_MANY_MUTATIONS = "TOO_MANY_MUTATIONS"
    DRAFT_LOCKED = "DRAFT_LOCKED"
    DRAFT_DELETED = "DRAFT_DELETED"
    SERVER_OWNED_FIELD = "SERVER_OWNED_FIELD"
    UNSUPPORTED_INTENT = "UNSUPPORTED_INTENT"
    MUTATION_QUARANTINED = "MUTATION_QUARANTINED"
    SEQUENCE_REUSED = "SEQUENCE_REUSED"
    # Devices and notifications.
    INVALID_DEVICE_TOKEN = "INVALID_DEVICE_TOKEN"
    UNSUPPORTED_PLATFORM = "UNSUPPORTED_PLATFORM"
    UNSUPPORTED_LOCALE = "UNSUPPORTED_LOCALE"
    INVALID_QUIET_HOURS = "INVALID_QUIET_HOURS"
    TOO_MANY_IDS = "TOO_MANY_IDS"
    # Offline sync (issue 9): a seq that can name no mutation.
    SEQUENCE_INVALID = "SEQUENCE_INVALID"
    # Wallet documents a form refers to (core/wallet_reuse.py).
    DOCUMENT_NOT_FOUND = "DOCUMENT_NOT_FOUND"
    DOCUMENT_KIND_MISMATCH = "DOCUMENT_KIND_MISMATCH"
    DOCUMENT_NOT_VERIFIED = "DOCUMENT_NOT_VERIFIED"
    DOCUMENT_EXPIRED = "DOCUMENT_EXPIRED"
    # Catalogue.
    SEARCH_TOO_LONG = "SEARCH_TOO_LONG"
    # Server-driven screens.
    TILE_NOT_FOUND = "TILE_NOT_FOUND"
    # GraphQL over HTTP: request errors and refusals before execution, and outages.
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    BAD_REQUEST = "BAD_REQUEST"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    NOT_ACCEPTABLE = "NOT_ACCEPTABLE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    # WebSocket transport.
    SUBSCRIPTIONS_ONLY = "SUBSCRIPTIONS_ONLY"
    # Forms: limits on what the app sends, and a cut list of errors.
    FORM_TOO_LARGE = "FORM_TOO_LARGE"
    MORE_ERRORS = "MORE_ERRORS"
    # Connections (issue 11): a request body that did not arrive in time.
    REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
    # Cost budget: an operation refused before it runs (api/graphql/cost.py).
    QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
    # Quotas (issue 11).
    RATE_LIMITED = "RATE_LIMITED"
    DAILY_SUBMISSION_LIMIT = "DAILY_SUBMISSION_LIMIT"
    # Privacy audit trail: a read or change of personal data that could not be recorded does not happen.
    AUDIT_UNAVAILABLE = "AUDIT_UNAVAILABLE"
    # Home screen: announcements are for everyone, so personal data in them is refused.
    ANNOUNCEMENT_PERSONAL_DATA = "ANNOUNCEMENT_PERSONAL_DATA"
    # Service directory: a province code the directory does not know.
    UNKNOWN_PROVINCE = "UNKNOWN_PROVINCE"
    # Attachments (uploads/, tus): the upload itself, and attaching it to a filing or a supplement.
    UPLOAD_NOT_FOUND = "UPLOAD_NOT_FOUND"
    UPLOAD_BAD_REQUEST = "UPLOAD_BAD_REQUEST"
    UPLOAD_TOO_LARGE = "UPLOAD_TOO_LARGE"
    UPLOAD_TYPE_NOT_ALLOWED = "UPLOAD_TYPE_NOT_ALLOWED"
    UPLOAD_CHECKSUM_MISMATCH = "UPLOAD_CHECKSUM_MISMATCH"
    UPLOAD_OFFSET_MISMATCH = "UPLOAD_OFFSET_MISMATCH"
    TOO_MANY_UPLOADS = "TOO_MANY_UPLOADS"
    UPLOAD_INCOMPLETE = "UPLOAD_INCOMPLETE"
    UPLOAD_ALREADY_ATTACHED = "UPLOAD_ALREADY_ATTACHED"
    TOO_MANY_ATTACHMENTS = "TOO_MANY_ATTACHMENTS"
    # App versions: an app older than the platform's minimum is served nothing but this.
    APP_UPDATE_REQUIRED = "APP_UPDATE_REQUIRED"
    # Ratings of returned dossiers (core/ratings.py).
    ALREADY_RATED = "ALREADY_RATED"
    NOT_RATEABLE = "NOT_RATEABLE"
    # Fees and payments (core/payments.py).
    PAYMENT_NOT_REQUESTED = "PAYMENT_NOT_REQUESTED"
    PAYMENT_DEADLINE_PASSED = "PAYMENT_DEADLINE_PASSED"
    PAYMENT_GATEWAY_UNAVAILABLE = "PAYMENT_GATEWAY_UNAVAILABLE"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"


# (Vietnamese, English) templates; `{name}` placeholders come from the error's params.
MESSAGES: dict[ErrorCode, tuple[str, str]] = {
    ErrorCode.UNAUTHENTICATED: (
        "Vui lòng đăng nhập bằng tài khoản định danh điện tử.",
        "Please sign in with your national e-ID.",
    ),
    ErrorCode.NOT_FOUND: ("Không tìm thấy {what}.", "{what_en} not found."),
    ErrorCode.BAD_USER_INPUT: ("Giá trị không hợp lệ: {detail}.", "Invalid value: {detail_en}."),
    ErrorCode.INVALID_CURSOR: (
        "Con trỏ phân trang không hợp lệ.",
        "The pagination cursor is not valid.",
    ),
    ErrorCode.PAGE_SIZE_TOO_LARGE: (
        "Số bản ghi mỗi trang phải từ 1 đến {maximum}.",
        "Page size must be between 1 and {maximum}.",
    ),
    ErrorCode.INVALID_TRANSITION: (
        "Không thể chuyển hồ sơ từ trạng thái '{current}' sang '{target}'.",
        "A dossier cannot move from '{current_en}' to '{target_en}'.",
    ),
    ErrorCode.NOT_WITHDRAWABLE: (
        "Hồ sơ ở trạng thái '{current}' không thể rút.",
        "A dossier in status '{current_en}' cannot be withdrawn.",
    ),
    ErrorCode.PROCEDURE_NOT_AVAILABLE: (
        "Thủ tục {code} không tồn tại hoặc chưa cung cấp trực tuyến.",
        "Procedure {code} does not exist or is not offered online.",
    ),
    ErrorCode.INVALID_ID_NUMBER: (
        "Số định danh cá nhân không hợp lệ: {reason}.",
        "Invalid personal identification number: {reason_en}.",
    ),
    ErrorCode.DAILY_SEQUENCE_EXHAUSTED: (
        "Cơ quan đã tiếp nhận số hồ sơ tối đa trong ngày; vui lòng nộp lại vào ngày mai.",
        "The agency has received its maximum number of dossiers today; please submit tomorrow.",
    ),
    ErrorCode.IDEMPOTENCY_KEY_REUSED: (
        "Mã giao dịch đã được dùng cho một yêu cầu khác.",
        "This client mutation id was already used for a different request.",
    ),
    ErrorCode.REQUIRED: ("Trường '{label}' là bắt buộc.", "'{label_en}' is required."),
    ErrorCode.INVALID_TYPE: (
        "Trường '{label}' phải là {expected}.",
        "'{label_en}' must be {expected_en}.",
    ),
    ErrorCode.INVALID_FORMAT: (
        "Trường '{label}' không đúng định dạng.",
        "'{label_en}' is not in the expected format.",
    ),
    ErrorCode.INVALID_LENGTH: (
        "Độ dài trường '{label}' không hợp lệ.",
        "'{label_en}' has an invalid length.",
    ),
    ErrorCode.OUT_OF_RANGE: (
        "Giá trị trường '{label}' nằm ngoài phạm vi cho phép.",
        "'{label_en}' is out of the allowed range.",
    ),
    ErrorCode.NOT_ALLOWED_VALUE: (
        "Giá trị trường '{label}' không nằm trong danh sách cho phép.",
        "'{label_en}' is not one of the allowed values.",
    ),
    ErrorCode.UNKNOWN_FIELD: (
        "Biểu mẫu không có trường '{label}'.",
        "The form has no field '{label_en}'.",
    ),
    ErrorCode.INVALID_VALUE: (
        "Giá trị trường '{label}' không hợp lệ.",
        "'{label_en}' is not valid.",
    ),
    ErrorCode.PERSISTED_QUERY_NOT_FOUND: (
        "Máy chủ chưa có tài liệu truy vấn này; hãy gửi kèm nội dung truy vấn.",
        "PersistedQueryNotFound: the server does not know this document; send its text along.",
    ),
    ErrorCode.PERSISTED_QUERY_HASH_MISMATCH: (
        "Mã băm không khớp với nội dung truy vấn.",
        "The sha256Hash does not match the query text.",
    ),
    ErrorCode.PERSISTED_QUERY_REQUIRED: (
        "Máy chủ chỉ chạy các truy vấn đã đăng ký của ứng dụng.",
        "This server runs only the app's registered (persisted) documents.",
    ),
    ErrorCode.INVALID_DEVICE_TOKEN: (
        "Mã thiết bị nhận thông báo không hợp lệ.",
        "The push token is not valid.",
    ),
    ErrorCode.UNSUPPORTED_PLATFORM: (
        "Nền tảng '{platform}' không được hỗ trợ (android, ios, web).",
        "Platform '{platform}' is not supported (android, ios, web).",
    ),
    ErrorCode.UNSUPPORTED_LOCALE: (
        "Ngôn ngữ '{locale}' không được hỗ trợ (vi, en).",
        "Language '{locale}' is not supported (vi, en).",
    ),
    ErrorCode.INVALID_QUIET_HOURS: (
        "Khung giờ yên lặng phải có cả giờ bắt đầu và kết thúc dạng HH:MM.",
        "Quiet hours need both a start and an end, as HH:MM.",
    ),
    ErrorCode.TOO_MANY_IDS: (
        "Mỗi lần chỉ được gửi tối đa {maximum} mã.",
        "At most {maximum} ids can be sent at once.",
    ),
    ErrorCode.AGENCY_UNAVAILABLE: (
        "Hệ thống của {agency} tạm thời không phản hồi; vui lòng thử lại sau.",
        "{agency_en}'s system is unavailable right now; please try again later.",
    ),
    ErrorCode.AGENCY_TIMEOUT: (
        "Hệ thống của {agency} phản hồi quá chậm; vui lòng thử lại sau.",
        "{agency_en}'s system took too long to answer; please try again later.",
    ),
    ErrorCode.SYNC_CLIENT_NOT_OWNED: (
        "Mã thiết bị đồng bộ này thuộc về tài khoản khác.",
        "This sync client id belongs to another account.",
    ),
    ErrorCode.SCHEMA_VERSION_UNSUPPORTED: (
        "Phiên bản ứng dụng quá cũ hoặc không xác định (lược đồ {version}); vui lòng cập nhật ứng dụng.",
        "This app version is too old or unknown (schema {version}); please update the app.",
    ),
    ErrorCode.TOO_MANY_MUTATIONS: (
        "Mỗi lần gửi tối đa {maximum} thao tác.",
        "At most {maximum} mutations can be sent at once.",
    ),
    ErrorCode.DRAFT_LOCKED: (
        "Hồ sơ nháp đã được nộp nên không thể sửa; nội dung sửa có thể lưu thành bản nháp mới.",
        "The draft was already submitted and cannot change; keep your edits as a new draft.",
    ),
    ErrorCode.DRAFT_DELETED: (
        "Hồ sơ nháp đã bị xoá trên thiết bị khác; nội dung sửa được giữ trong thùng rác 30 ngày.",
        "The draft was deleted on another device; your edits are kept in the trash for 30 days.",
    ),
    ErrorCode.SERVER_OWNED_FIELD: (
        "Trường '{label}' do hệ thống quản lý, ứng dụng không được sửa.",
        "'{label_en}' is managed by the server and cannot be changed by the app.",
    ),
    ErrorCode.UNSUPPORTED_INTENT: (
        "Thao tác '{intent}' chưa được hỗ trợ{reason}.",
        "The action '{intent}' is not supported{reason_en}.",
    ),
    ErrorCode.MUTATION_QUARANTINED: (
        "Máy chủ không đọc được thao tác này; đã lưu lại để cán bộ xử lý.",
        "The server could not read this action; it was kept for an operator to handle.",
    ),
    ErrorCode.SEQUENCE_REUSED: (
        "Số thứ tự {seq} đã được dùng cho một thao tác khác.",
        "Sequence number {seq} was already used by another mutation.",
    ),
    ErrorCode.SEQUENCE_INVALID: (
        "Số thứ tự {seq} không hợp lệ: số thứ tự bắt đầu từ 1 và tăng liên tục trên mỗi thiết bị.",
        "Sequence number {seq} is not valid: seqs start at 1 and grow by one per install.",
    ),
    ErrorCode.GRAPHQL_PARSE_FAILED: ("Truy vấn GraphQL sai cú pháp: {detail}", "{detail}"),
    ErrorCode.GRAPHQL_VALIDATION_FAILED: ("Truy vấn GraphQL không hợp lệ với lược đồ: {detail}", "{detail}"),
    ErrorCode.BAD_REQUEST: (
        "Yêu cầu không phải một yêu cầu GraphQL hợp lệ: {detail}.",
        "The request is not a valid GraphQL request: {detail_en}.",
    ),
    ErrorCode.METHOD_NOT_ALLOWED: (
        "Truy vấn gửi bằng GET hoặc POST, mutation chỉ gửi bằng POST; không nhận phương thức khác.",
        "Queries may use GET or POST and mutations POST only; no other method is accepted.",
    ),
    ErrorCode.NOT_ACCEPTABLE: (
        "Máy chủ chỉ trả lời dạng application/graphql-response+json hoặc application/json.",
        "The server answers only application/graphql-response+json or application/json.",
    ),
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: (
        "Nội dung yêu cầu POST phải có Content-Type application/json.",
        "A POST body must have Content-Type application/json.",
    ),
    ErrorCode.PAYLOAD_TOO_LARGE: (
        "Nội dung yêu cầu lớn hơn {maximum} byte.",
        "The request body is larger than {maximum} bytes.",
    ),
    ErrorCode.SERVICE_UNAVAILABLE: (
        "Hệ thống tạm thời gián đoạn; vui lòng thử lại sau {retry_after} giây.",
        "The service is briefly unavailable; please retry in {retry_after} seconds.",
    ),
    ErrorCode.INTERNAL_ERROR: (
        "Đã xảy ra lỗi hệ thống, vui lòng thử lại sau (mã tra cứu {reference}).",
        "Something went wrong on our side; please try again later (reference {reference}).",
    ),
    ErrorCode.UNKNOWN_PROVINCE: (
        "Mã tỉnh, thành phố không hợp lệ: dùng mã ba chữ số (ví dụ 001 Hà Nội, 079 TP. Hồ Chí Minh).",
        "Unknown province code: use the three-digit code (e.g. 001 Hanoi, 079 Ho Chi Minh City).",
    ),
    ErrorCode.SEARCH_TOO_LONG: (
        "Từ khoá tìm kiếm quá dài: tối đa {max_chars} ký tự và {max_words} từ.",
        "The search is too long: at most {max_chars} characters and {max_words} words.",
    ),
    ErrorCode.TILE_NOT_FOUND: (
        "Dịch vụ này hiện không có trên ứng dụng; vui lòng tải lại danh mục dịch vụ.",
        "This service is not available in the app now; please reload the service directory.",
    ),
    ErrorCode.SUBSCRIPTIONS_ONLY: (
        "Kết nối WebSocket chỉ dùng cho đăng ký nhận cập nhật; hãy gửi truy vấn và thao tác qua HTTP.",
        "The WebSocket carries subscriptions only; send queries and mutations over HTTP.",
    ),
    ErrorCode.DOCUMENT_NOT_FOUND: (
        "Không tìm thấy giấy tờ này trong ví giấy tờ của bạn.",
        "This document is not in your wallet.",
    ),
    ErrorCode.DOCUMENT_KIND_MISMATCH: (
        "Giấy tờ đã chọn không đúng loại yêu cầu ({kind}).",
        "The chosen document is not of the kind asked for ({kind}).",
    ),
    ErrorCode.DOCUMENT_NOT_VERIFIED: (
        "Chữ ký của cơ quan cấp trên giấy tờ này không được xác thực, nên không thể dùng thay bản sao chứng thực.",
        "The issuing agency's signature on this document did not verify, so it cannot replace a certified copy.",
    ),
    ErrorCode.DOCUMENT_EXPIRED: (
        "Giấy tờ này đã hết hạn hoặc chưa có hiệu lực.",
        "This document has expired or is not valid yet.",
    ),
    ErrorCode.FORM_TOO_LARGE: (
        "Biểu mẫu vượt giới hạn: {limit}.",
        "The form is over a limit: {limit_en}.",
    ),
    ErrorCode.MORE_ERRORS: (
        "Còn {more} lỗi khác chưa liệt kê; hãy sửa các lỗi trên rồi gửi lại.",
        "{more} more problems are not listed; fix the ones above and send again.",
    ),
    ErrorCode.REQUEST_TIMEOUT: (
        "Yêu cầu gửi lên quá chậm (quá {seconds} giây); hãy thử lại khi kết nối tốt hơn.",
        "The request was sent too slowly (over {seconds} s); try again on a better connection.",
    ),
    ErrorCode.QUERY_TOO_COSTLY: (
        "Yêu cầu quá lớn: chi phí {cost} vượt mức cho phép {budget}; hãy lấy ít trường hoặc ít bản ghi hơn.",
        "The request is too large: it would cost {cost}, over the budget of {budget}; ask for fewer fields "
        "or smaller pages.",
    ),
    ErrorCode.RATE_LIMITED: (
        "Bạn đã gửi quá nhiều yêu cầu; vui lòng thử lại sau {retry_after} giây.",
        "Too many requests; please try again in {retry_after} seconds.",
    ),
    ErrorCode.DAILY_SUBMISSION_LIMIT: (
        "Bạn đã nộp {limit} hồ sơ hôm nay, là số tối đa trong một ngày; hồ sơ này chưa được nộp, "
        "vui lòng nộp lại vào ngày mai.",
        "You have filed {limit} dossiers today, the most in one day; this one was not filed, "
        "please file it tomorrow.",
    ),
    ErrorCode.AUDIT_UNAVAILABLE: (
        "Không ghi được nhật ký truy cập dữ liệu cá nhân nên yêu cầu chưa được thực hiện; vui lòng thử lại sau.",
        "Access to personal data could not be recorded, so the request was not carried out; please retry later.",
    ),
    ErrorCode.ANNOUNCEMENT_PERSONAL_DATA: (
        "Thông báo gửi tới mọi người không được chứa {what} (trường {field_name}).",
        "An announcement is for everyone and may not contain {what_en} (field {field_name}).",
    ),
    ErrorCode.UPLOAD_NOT_FOUND: (
        "Không tìm thấy tệp tải lên; có thể đã hết hạn hoặc không phải của bạn.",
        "Upload not found; it may have expired or not be yours.",
    ),
    ErrorCode.UPLOAD_BAD_REQUEST: (
        "Yêu cầu tải tệp không hợp lệ: {detail}.",
        "The upload request is malformed: {detail_en}.",
    ),
    ErrorCode.UPLOAD_TOO_LARGE: (
        "Tệp quá lớn: tối đa {maximum} byte.",
        "The file is too large: at most {maximum} bytes.",
    ),
    ErrorCode.UPLOAD_TYPE_NOT_ALLOWED: (
        "Loại tệp không được nhận ({detected}); chỉ nhận ảnh JPEG, PNG, HEIC, WebP hoặc tệp PDF.",
        "This kind of file is not accepted ({detected}); send a JPEG, PNG, HEIC or WebP photo or a PDF.",
    ),
    ErrorCode.UPLOAD_CHECKSUM_MISMATCH: (
        "Đoạn tệp bị hỏng trên đường truyền (sai mã kiểm tra) và đã bị bỏ; hãy gửi lại đoạn này.",
        "The chunk was damaged on the way (checksum mismatch) and was discarded; send it again.",
    ),
    ErrorCode.UPLOAD_OFFSET_MISMATCH: (
        "Vị trí gửi tiếp không khớp: máy chủ đã có {offset} byte; hãy hỏi lại (HEAD) rồi gửi tiếp.",
        "The offset does not match: the server holds {offset} bytes; ask again (HEAD) and continue from there.",
    ),
    ErrorCode.TOO_MANY_UPLOADS: (
        "Bạn đang có {maximum} tệp tải lên chưa dùng; hãy nộp hoặc xoá bớt trước khi tải tệp mới.",
        "You hold {maximum} uploads not yet used; file or delete some before starting another.",
    ),
    ErrorCode.UPLOAD_INCOMPLETE: (
        "Tệp đính kèm {upload_id} chưa tải xong; hãy tải nốt rồi nộp lại.",
        "Attachment {upload_id} is not fully uploaded; finish it and send again.",
    ),
    ErrorCode.UPLOAD_ALREADY_ATTACHED: (
        "Tệp đính kèm {upload_id} đã được dùng cho một hồ sơ khác.",
        "Attachment {upload_id} is already used by another dossier.",
    ),
    ErrorCode.TOO_MANY_ATTACHMENTS: (
        "Quá nhiều tệp đính kèm: tối đa {maximum} tệp mỗi lần nộp.",
        "Too many attachments: at most {maximum} at a time.",
    ),
    ErrorCode.APP_UPDATE_REQUIRED: (
        "Phiên bản ứng dụng này không còn được hỗ trợ; vui lòng cập nhật ứng dụng ({requirement}) để tiếp tục "
        "sử dụng.",
        "This version of the app is no longer supported; please update the app ({requirement_en}) to go on.",
    ),
    ErrorCode.ALREADY_RATED: (
        "Bạn đã đánh giá hồ sơ này; mỗi hồ sơ chỉ được đánh giá một lần.",
        "You have already rated this dossier; each dossier is rated once.",
    ),
    ErrorCode.NOT_RATEABLE: (
        "Chỉ đánh giá được hồ sơ đã trả kết quả; hồ sơ đang ở trạng thái '{current}'.",
        "Only a dossier whose result was returned can be rated; this one is '{current_en}'.",
    ),
    ErrorCode.PAYMENT_NOT_REQUESTED: (
        "Hồ sơ này không có khoản phí, lệ phí nào đang chờ thanh toán.",
        "This dossier has no fee or charge waiting to be paid.",
    ),
    ErrorCode.PAYMENT_DEADLINE_PASSED: (
        "Đã quá hạn nộp phí (hạn cuối {deadline}); vui lòng liên hệ cơ quan giải quyết hồ sơ.",
        "The deadline to pay ({deadline}) has passed; please contact the agency handling the dossier.",
    ),
    ErrorCode.PAYMENT_GATEWAY_UNAVAILABLE: (
        "Cổng thanh toán tạm thời không phản hồi; chưa có khoản tiền nào bị trừ, vui lòng thử lại sau ít phút.",
        "The payment gateway is not answering right now; nothing was charged, please try again in a few minutes.",
    ),
    ErrorCode.PAYMENT_DECLINED: (
        "Giao dịch bị từ chối ({reason}); chưa có khoản tiền nào bị trừ, bạn có thể thanh toán lại.",
        "The payment was declined ({reason}); nothing was charged, you can pay again.",
    ),
}


# Codes whose GraphQL `message` is a fixed wording that standard clients match on (the localized text stays in
# `extensions.messageVi` / `messageEn`): urql's persisted exchange and Apollo's link recognise a persisted-query
# miss, and resend the text, only by Apollo Server's message.
WIRE_MESSAGES: dict[ErrorCode, str] = {ErrorCode.PERSISTED_QUERY_NOT_FOUND: "PersistedQueryNotFound"}


class _Defaults(dict[str, Any]):
    """Lets a template's English placeholder fall back to its Vietnamese one (`what_en` -> `what`)."""

    def __missing__(self, key: str) -> Any:
        if key.endswith("_en") and key[:-3] in self:
            return self[key[:-3]]
        return "{" + key + "}"


def render(code: ErrorCode, params: dict[str, Any]) -> tuple[str, str]:
    vi, en = MESSAGES[code]
    values = _Defaults(params)
    return vi.format_map(values), en.format_map(values)


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field; `field` is a dotted path such as `formData.child.birthDate`."""

    code: ErrorCode
    field: str | None
    message_vi: str
    message_en: str

    @classmethod
    def of(cls, code: ErrorCode, field: str | None = None, **params: Any) -> FieldError:
        vi, en = render(code, params)
        return cls(code=code, field=field, message_vi=vi, message_en=en)


class DomainError(Exception):
    """An expected failure with a stable code; carries one or more field errors."""

    def __init__(self, code: ErrorCode, /, *, field: str | None = None, **params: Any) -> None:
        self.code = code
        self.field = field
        self.params = params
        self.message_vi, self.message_en = render(code, params)
        self.errors: tuple[FieldError, ...] = (
            FieldError(code=code, field=field, message_vi=self.message_vi, message_en=self.message_en),
        )
        super().__init__(self.message_en)

    @classmethod
    def from_fields(cls, errors: list[FieldError]) -> DomainError:
        """Many field errors at once (a form); the first one names the error."""
        first = errors[0]
        error = cls.__new__(cls)
        Exception.__init__(error, first.message_en)
        error.code, error.field, error.params = first.code, first.field, {}
        error.message_vi, error.message_en = first.message_vi, first.message_en
        error.errors = tuple(errors)
        return error


def not_found(what: str, what_en: str) -> DomainError:
    return DomainError(ErrorCode.NOT_FOUND, what=what, what_en=what_en)
