"""Short Vietnamese labels for intents, shown on "Có phải anh/chị muốn hỏi về …?" buttons."""

from __future__ import annotations

INTENT_LABELS: dict[str, str] = {
    "greet": "Chào hỏi",
    "goodbye": "Kết thúc trò chuyện",
    "thank": "Cảm ơn",
    "affirm": "Đồng ý",
    "deny": "Không đồng ý",
    "bot_challenge": "Em là người hay máy",
    "ask_capabilities": "Em giúp được những gì",
    "request_human": "Gặp người hỗ trợ",
    "provide_commune": "Xã, phường nơi anh/chị ở",
    "start_lessons": "Học kỹ năng số",
    "report_scam": "Báo bị lừa đảo",
    "stuck": "Đang bị lỗi, bị kẹt",
    "delete_my_data": "Xóa dữ liệu của tôi",
    "out_of_scope": "Việc khác",
    "service_vneid_activation": "Kích hoạt VNeID",
    "service_vneid_recovery": "Lấy lại tài khoản VNeID",
    "service_birth_registration": "Đăng ký khai sinh",
    "service_death_registration": "Đăng ký khai tử",
    "service_permanent_residence": "Đăng ký thường trú",
    "service_temporary_residence": "Đăng ký tạm trú",
    "service_marital_status": "Xác nhận tình trạng hôn nhân",
    "service_marriage_registration": "Đăng ký kết hôn",
    "service_judicial_record": "Lý lịch tư pháp",
    "service_health_insurance": "Bảo hiểm y tế",
    "service_driving_license": "Giấy phép lái xe",
    "service_business_household": "Đăng ký hộ kinh doanh",
    "service_utility_bills": "Trả tiền điện, nước",
    "service_mobile_money": "Mobile Money",
    "service_public_portal_login": "Đăng nhập Cổng dịch vụ công",
    "service_dossier_status": "Tra cứu hồ sơ",
    "service_id_card": "Thẻ căn cước",
    "service_traffic_fines": "Phạt vi phạm giao thông",
    "service_social_allowance": "Trợ cấp xã hội",
    "service_certified_copy": "Chứng thực bản sao",
    "lesson_smartphone_basics": "Học dùng điện thoại",
    "lesson_safe_passwords": "Học đặt mật khẩu an toàn",
    "lesson_scam_awareness": "Học cách nhận biết lừa đảo",
    "lesson_zalo_basics": "Học dùng Zalo",
    "lesson_online_payments": "Học thanh toán trực tuyến",
    "lesson_online_shopping": "Học mua bán trực tuyến",
    "lesson_finding_information": "Học tìm thông tin trên mạng",
    "next_step": "Sang bước tiếp theo",
    "resume": "Làm tiếp việc đang dở",
    "stop_flow": "Dừng lại",
}

# Intents only ever sent by buttons (their payloads carry entities); they have no label, no
# training examples and are never offered as a guess.
BUTTON_ONLY_INTENTS = frozenset({"answer_quiz", "consent", "show_documents"})
