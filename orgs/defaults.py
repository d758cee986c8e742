"""Default dictionaries of a new install. Admins edit them freely afterwards.

Seeding runs after every ``migrate`` (and after a test database flush) and only adds what
is missing: an item an admin renamed or deactivated stays as the admin left it.
"""

from __future__ import annotations

# code: (name, name_en, [(item code, label, label_en, extra), ...])
DEFAULT_DICTIONARIES: dict[str, tuple[str, str, list[tuple]]] = {
    "channel": ("线索来源/渠道", "Lead source / channel", [
        ("web_form", "官网表单", "Web form"),
        ("official_account", "公众号", "Official account"),
        ("mini_program", "小程序", "Mini-program"),
        ("app", "App", "App"),
        ("pc_site", "PC 网站", "PC site"),
        ("search_ads", "搜索广告", "Search ads"),
        ("ecommerce", "电商平台", "E-commerce"),
        ("event", "线下活动", "Event"),
        ("referral", "客户转介绍", "Referral"),
        ("manual", "手工录入", "Manual entry"),
        ("file_import", "文件导入", "File import"),
    ]),
    "region": ("区域", "Region", [
        ("east", "华东", "East China"),
        ("south", "华南", "South China"),
        ("north", "华北", "North China"),
        ("central", "华中", "Central China"),
        ("southwest", "西南", "Southwest China"),
        ("northwest", "西北", "Northwest China"),
        ("northeast", "东北", "Northeast China"),
        ("overseas", "海外", "Overseas"),
    ]),
    "product_category": ("产品品类", "Product category", [
        ("software", "软件订阅", "Software subscription"),
        ("hardware", "硬件设备", "Hardware"),
        ("services", "实施服务", "Implementation services"),
        ("training", "培训课程", "Training"),
    ]),
    "industry": ("行业", "Industry", [
        ("manufacturing", "制造业", "Manufacturing"),
        ("retail", "零售", "Retail"),
        ("finance", "金融", "Finance"),
        ("education", "教育", "Education"),
        ("healthcare", "医疗健康", "Healthcare"),
        ("technology", "信息技术", "Technology"),
        ("real_estate", "房地产", "Real estate"),
        ("telecom", "通信", "Telecommunications", {"sort_order": 75}),
        ("media", "文化娱乐", "Media & entertainment", {"sort_order": 76}),
        ("marketing", "营销广告", "Marketing & advertising", {"sort_order": 77}),
        ("business_services", "商务服务", "Business services", {"sort_order": 78}),
        ("staffing", "人力资源服务", "Employment & staffing", {"sort_order": 79}),
        ("logistics", "物流", "Logistics"),
        ("government", "政府与公共事业", "Government & public sector"),
        ("other", "其他", "Other"),
    ]),
    "lead_status_reason": ("线索无效原因", "Invalid lead reasons", [
        ("wrong_number", "号码错误/空号", "Wrong or dead number"),
        ("no_need", "无需求", "No need"),
        ("duplicate", "重复线索", "Duplicate"),
        ("competitor", "同行/竞争对手", "Competitor"),
        ("spam", "骚扰/测试数据", "Spam or test data"),
    ]),
    "lost_reason": ("输单原因", "Lost reasons", [
        ("price", "价格过高", "Price too high"),
        ("competitor", "选择了竞争对手", "Chose a competitor"),
        ("no_budget", "无预算", "No budget"),
        ("no_decision", "未决策/项目搁置", "No decision / on hold"),
        ("features", "功能不满足", "Missing features"),
        ("unreachable", "联系不上", "Unreachable"),
    ]),
    "followup_type": ("跟进方式", "Follow-up types", [
        ("call", "电话", "Call", {"extra": {"invitation": ["appointment"]}}),
        ("visit", "拜访", "Visit", {"extra": {"invitation": []}}),
        ("wechat", "微信", "WeChat", {"extra": {"invitation": ["appointment"]}}),
        ("email", "邮件", "Email", {"extra": {"invitation": ["appointment"]}}),
        ("sms", "短信", "SMS", {"extra": {"invitation": ["appointment"]}}),
        ("meeting", "会议", "Meeting", {"extra": {"invitation": []}}),
    ]),
    "opportunity_stage": ("商机阶段", "Opportunity stages", [
        ("prospecting", "初步接洽", "Prospecting", {"probability": 10}),
        ("engaging", "接洽中", "Engaging", {"probability": 20, "sort_order": 15}),
        ("qualification", "需求确认", "Qualification", {"probability": 25}),
        ("proposal", "方案/报价", "Proposal", {"probability": 50}),
        ("negotiation", "商务谈判", "Negotiation", {"probability": 75}),
        ("won", "赢单", "Won", {"probability": 100, "extra": {"closed": "won"}}),
        ("lost", "输单", "Lost", {"probability": 0, "extra": {"closed": "lost"}}),
    ]),
    "customer_size": ("客户规模", "Customer sizes", [
        ("small", "小型（<50 人）", "Small (under 50 staff)"),
        ("medium", "中型（50–500 人）", "Medium (50–500 staff)"),
        ("large", "大型（500 人以上）", "Large (over 500 staff)"),
    ]),
    "customer_grade": ("客户等级", "Customer grades", [
        ("A", "A 类（重点）", "A (key)"),
        ("B", "B 类（普通）", "B (regular)"),
        ("C", "C 类（一般）", "C (minor)"),
    ]),
    "release_reason": ("释放原因", "Release reasons", [
        ("no_need", "客户暂无需求", "No current need"),
        ("unreachable", "多次联系不上", "Repeatedly unreachable"),
        ("not_my_region", "不属于本人区域/品类", "Outside my region or category"),
        ("capacity", "跟进能力不足", "No capacity to follow up"),
    ]),
    "transfer_reason": ("转移原因", "Transfer reasons", [
        ("ineffective_followup", "跟进不力", "Ineffective follow-up",
         {"extra": {"ineffective_followup": True}}),
        ("rebalance", "负载均衡", "Load rebalancing"),
        ("region_change", "区域调整", "Region change"),
        ("departure", "离职交接", "Departure handover"),
        ("customer_request", "客户要求", "Customer request"),
    ]),
    "qa_checklist": ("质检项", "QA checklist items", [
        ("greeting", "规范开场白", "Proper greeting"),
        ("needs", "挖掘客户需求", "Explored the customer's needs"),
        ("accuracy", "产品介绍准确", "Accurate product information"),
        ("no_overpromise", "无过度承诺", "No over-promising"),
        ("next_step", "约定下一步", "Agreed a next step"),
        ("record", "记录完整", "Complete record"),
    ]),
    "sensitive_word": ("敏感词", "Sensitive words", [
        ("guarantee", "保证收益", "guaranteed returns"),
        ("kickback", "回扣", "kickback"),
        ("private_account", "私人账户", "private account"),
        ("refund_promise", "包退", "full refund promised"),
    ]),
}


def seed_default_dictionaries(dictionary_model, item_model) -> int:
    """Create missing dictionaries and items; returns how many items were added."""
    added = 0
    for code, (name, name_en, items) in DEFAULT_DICTIONARIES.items():
        dictionary, _ = dictionary_model.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en}
        )
        existing = set(dictionary.items.values_list("code", flat=True))
        new_items = []
        for order, row in enumerate(items, start=1):
            item_code, label, label_en, *rest = row
            if item_code in existing:
                continue
            options = rest[0] if rest else {}
            new_items.append(
                item_model(
                    dictionary=dictionary,
                    code=item_code,
                    label=label,
                    label_en=label_en,
                    sort_order=options.get("sort_order", order * 10),
                    probability=options.get("probability"),
                    extra=options.get("extra", {}),
                )
            )
        item_model.objects.bulk_create(new_items)
        added += len(new_items)
    return added
