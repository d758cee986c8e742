"""What the demo's people write: names, companies, and follow-up notes in the words of a
Chinese sales team — including a few a QA inspector should flag (the demo's sensitive
words, see ``orgs.demo.SENSITIVE_WORDS``)."""

from __future__ import annotations

import random

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢"
    "宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
)
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
         "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华", "晓东", "雪梅", "海燕", "志强",
         "文博", "思远", "佳怡", "子涵", "宇航", "欣怡", "俊杰", "雨桐", "国栋", "立新", "红梅"]
CITIES = {
    "east": ["上海", "杭州", "苏州", "南京", "宁波", "无锡", "合肥", "温州"],
    "south": ["深圳", "广州", "东莞", "佛山", "厦门", "珠海", "南宁", "福州"],
    "north": ["北京", "天津", "石家庄", "济南", "青岛", "太原"],
    "central": ["武汉", "长沙", "郑州", "南昌"],
    "southwest": ["成都", "重庆", "昆明", "贵阳"],
    "northwest": ["西安", "兰州", "银川", "乌鲁木齐"],
    "northeast": ["沈阳", "大连", "长春", "哈尔滨"],
    "overseas": ["新加坡", "吉隆坡", "胡志明市", "曼谷"],
}
TRADES = [("智能制造", "manufacturing"), ("精密机械", "manufacturing"),
          ("电子科技", "technology"), ("软件", "technology"), ("商贸", "retail"),
          ("连锁超市", "retail"), ("教育科技", "education"), ("医疗器械", "healthcare"),
          ("物流", "logistics"), ("新材料", "manufacturing"), ("供应链管理", "logistics"),
          ("数字营销", "marketing"), ("融资租赁", "finance"), ("置业", "real_estate"),
          ("通信技术", "telecom"), ("文化传媒", "media")]
# Long-standing customers of the demo company (name, region, industry): their people come
# back as new leads now and then, and are converted against the existing customer.
LONG_STANDING = [
    ("苏州恒瑞精密机械股份有限公司", "east", "manufacturing"),
    ("深圳前海星河软件有限公司", "south", "technology"),
    ("上海锦程智能制造有限公司", "east", "manufacturing"),
    ("广州瑞安连锁超市有限公司", "south", "retail"),
    ("杭州云栖数据科技有限公司", "east", "technology"),
    ("东莞越诚精密模具有限公司", "south", "manufacturing"),
    ("南京博远医疗器械有限公司", "east", "healthcare"),
    ("佛山安泰家居集团有限公司", "south", "manufacturing"),
    ("宁波华通物流集团有限公司", "east", "logistics"),
    ("厦门海润供应链管理有限公司", "south", "logistics"),
    ("合肥新源电子科技有限公司", "east", "technology"),
    ("珠海博雅教育科技有限公司", "south", "education"),
    ("无锡中泰新材料有限公司", "east", "manufacturing"),
    ("南宁远航物流有限公司", "south", "logistics"),
    ("温州信达商贸有限公司", "east", "retail"),
    ("福州恒信数字营销有限公司", "south", "marketing"),
    ("上海东方明珠医疗科技有限公司", "east", "healthcare"),
    ("深圳鹏城智联科技股份有限公司", "south", "technology"),
    ("杭州青禾教育科技有限公司", "east", "education"),
    ("广州粤海食品集团有限公司", "south", "retail"),
]
SUFFIXES = ["有限公司", "股份有限公司", "集团有限公司", "科技有限公司"]
TITLES = ["采购经理", "总经理", "IT 主管", "运营总监", "行政经理", "财务总监", "技术负责人",
          "市场经理", "厂长", "创始人", "信息部经理", "生产副总"]
PRODUCT_WORDS = {
    "software": ["CRM 系统", "MES 系统", "数据中台", "ERP 升级"],
    "hardware": ["视觉检测相机", "AGV 小车", "边缘网关", "收银一体机"],
    "services": ["实施服务", "维保服务", "私有化部署", "数据迁移"],
    "training": ["管理层培训", "操作员认证培训"],
}
LEAD_NOTES = {
    "web_form": ["官网咨询产品报价", "官网预约演示", "下载了行业白皮书"],
    "official_account": ["公众号文章留言，想了解方案", "公众号菜单提交试用申请"],
    "mini_program": ["小程序领取试用", "小程序预约顾问回电"],
    "app": ["App 内咨询客服，转销售跟进"],
    "pc_site": ["PC 站在线客服留资"],
    "search_ads": ["搜索广告落地页提交表单", "百度推广关键词“MES 系统”进线"],
    "ecommerce": ["电商店铺询价，需要对公开票", "京东企业购咨询批量采购"],
    "event": ["展会现场留资，对设备感兴趣", "行业沙龙签到，会后想约演示"],
    "referral": ["老客户转介绍", "合作伙伴推荐"],
    "manual": ["朋友介绍，电话聊过一次", "陌拜名片录入"],
    "file_import": ["2026 智能制造展名单导入", "行业协会会员名单"],
}
CAMPAIGNS = {"event": ["2026 秋季展会", "智能制造峰会"], "search_ads": ["百度 Q3 投放"],
             "ecommerce": ["双11"], "file_import": ["2026 智能制造展"]}
COMPETITORS = ["金算盘", "云启科技", "智联软件", "恒通系统"]
WHEN = ["明天上午", "明天下午", "周三下午", "周四上午", "周五上午", "下周一", "下周二下午",
        "月底前"]
PAINS = ["排产靠 Excel，插单一多就乱", "质检靠人工抽检，漏检率高", "销售线索分散在个人微信里",
         "仓库账实不符，月底盘点要三天", "门店收银高峰期排队严重", "新员工上手慢，培训成本高"]
CONCERNS = ["价格和分期付款", "和现有 ERP 的数据对接", "实施周期", "售后响应时间",
            "私有化部署还是 SaaS", "同行业案例"]


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def company_name(rng: random.Random, region: str) -> tuple[str, str]:
    """A company of ``region`` and its industry code."""
    city = rng.choice(CITIES.get(region) or CITIES["east"])
    trade, industry = rng.choice(TRADES)
    suffix = rng.choice(SUFFIXES)
    if trade.endswith("科技") and suffix.startswith("科技"):
        suffix = "有限公司"
    name = (f"{city}{rng.choice('华瑞中恒新博远信锦宏')}{rng.choice('达通科源泰越诚安盛辉')}"
            f"{trade}{suffix}")
    return name, industry


def _fill(template: str, rng: random.Random, category: str) -> str:
    return template.format(p=rng.choice(PRODUCT_WORDS.get(category) or PRODUCT_WORDS["software"]),
                           w=rng.choice(WHEN), pain=rng.choice(PAINS),
                           concern=rng.choice(CONCERNS), comp=rng.choice(COMPETITORS),
                           t=rng.choice(TITLES), n=rng.randrange(2, 9) * 10)


# (kind, outcome, templates) by moment of the conversation.
FIRST_CONTACT = [
    ("call", "connected", ["首次电话沟通，{t}确认有需求，痛点是{pain}，约{w}发资料。",
                           "电话联系上了，对方在评估{p}，想先看报价和案例。"]),
    ("call", "not_connected", ["电话未接通，已发短信说明来意。", "拨打两次无人接听，稍后再打。"]),
    ("wechat", "interested", ["已加微信，发送了{p}介绍和同行业案例，对方回复会看。",
                              "微信沟通，对方对{p}感兴趣，问了{concern}。"]),
    ("sms", "other", ["发送短信自我介绍，附官网演示预约链接。"]),
    ("email", "other", ["邮件发送{p}产品手册和报价区间，请对方确认需求范围。"]),
]
NURTURE = [
    ("call", "connected", ["电话跟进，对方内部还在走预算，{w}再确认。",
                           "电话沟通需求细节：约 {n} 个用户，关注{concern}。",
                           "回访，{t}说老板出差，下周回来一起评估{p}。"]),
    ("call", "not_connected", ["电话未接通，微信留言。", "对方在开会，约好晚点回电。"]),
    ("wechat", "interested", ["微信发了{p}的报价单和分期方案，对方说要和财务商量。",
                              "微信答疑：{concern}，对方比较满意。"]),
    ("visit", "appointment", ["约好{w}上门拜访，演示{p}，需准备测试数据。"]),
    ("visit", "connected", ["上门拜访{t}，现场看了产线，痛点是{pain}，建议先做试点。",
                            "拜访客户，演示了{p}，对方 IT 提了数据对接的问题，回去准备方案。"]),
    ("meeting", "interested", ["线上会议演示{p}，IT 和采购都参加，整体反馈积极。",
                               "视频会议讲解实施方案，对方关注{concern}。"]),
    ("email", "other", ["邮件发送正式方案和报价单（含三年维保）。",
                        "邮件补充了{comp}和我们的功能对比表。"]),
    ("sms", "other", ["短信提醒{w}的线上演示会议，附会议链接。"]),
    ("call", "not_interested", ["电话沟通，对方说今年预算已用完，明年再看。"]),
]
GOING_COLD = [
    ("call", "not_connected", ["连续几次电话都没人接。", "电话未接通，微信也没回。"]),
    ("sms", "other", ["短信留言，请对方方便时回电。"]),
    ("wechat", "other", ["微信发了节日问候，没有回复。"]),
]
CLOSING = [
    ("visit", "connected", ["拜访确认需求和预算，客户同意推进，转为商机跟进。",
                            "和{t}当面确认采购范围，准备正式报价，转商机。"]),
    ("meeting", "appointment", ["约好{w}和老板开会确认方案，需求明确，转商机。"]),
]
INVALID = [
    ("call", "not_connected", ["号码是空号。", "打过去是别的公司，号码登记错了。"]),
    ("call", "not_interested", ["对方表示没有需求，是同行来打听价格的。",
                                "对方说是误填表单，没有采购计划。"]),
]
OPPORTUNITY = [
    ("meeting", "interested", ["需求调研会，确认了 {n} 个用户的范围和上线时间。",
                               "方案评审会，对方提出要增加移动端审批。"]),
    ("visit", "connected", ["拜访决策人，确认预算已批，下一步走招采流程。",
                            "现场 POC 测试，识别率达标，客户满意。"]),
    ("email", "other", ["邮件发送正式报价和合同草稿。", "邮件回复技术澄清问题清单。"]),
    ("call", "connected", ["电话确认商务条款，对方希望分三期付款。",
                           "电话沟通，对方在比较{comp}的报价，我们有价格压力。"]),
    ("wechat", "interested", ["微信同步了项目计划表，对方确认了实施负责人。"]),
    ("sms", "other", ["短信提醒客户{w}的方案汇报会。"]),
]
CUSTOMER = [
    ("visit", "connected", ["季度回访，系统使用正常，客户提了两个报表需求。",
                            "上门做上线回访，现场解决了打印模板的问题。"]),
    ("call", "connected", ["电话沟通回款安排，财务说本月底前付第二期。",
                           "电话回访满意度，客户反馈售后响应快。",
                           "合同快到期了，电话沟通续约意向，客户倾向续三年。"]),
    ("wechat", "interested", ["微信推荐了新上线的{p}，客户有兴趣，约{w}细聊。"]),
    ("email", "other", ["邮件发送本季度服务报告和发票。", "邮件寄送续约报价单。"]),
    ("meeting", "connected", ["年度业务回顾会，客户计划明年扩容到更多工厂。"]),
    ("sms", "other", ["短信提醒客户第二期款项下周到期。"]),
]
# Notes a QA inspector should flag, each with one of the demo's sensitive words.
FLAGGED = [
    ("call", "interested", ["跟客户说上了这套系统稳赚不赔，三个月就能回本。",
                            "客户担心投入，我说我们保证收益，做不到全额退。"]),
    ("wechat", "interested", ["微信上让客户把身份证号和银行卡号发过来，方便走分期。",
                              "客户问付款方式，我说可以先打到我个人账户，开票后再走公司。",
                              "对方采购暗示要返点，我说可以私下给他回扣。"]),
    ("visit", "connected", ["客户在比较{comp}，我说他们就是骗子，产品是垃圾，售后一塌糊涂。",
                            "跟客户说我们的方案保本保收益，不满意包退。"]),
]


def followup(rng: random.Random, moment: str, *, category: str = "software",
             flag_share: float = 0.04) -> tuple[str, str, str]:
    """``(kind, outcome, content)`` of a follow-up at ``moment`` of a conversation (first,
    nurture, cold, closing, invalid, opportunity, customer); about ``flag_share`` of notes
    contain something QA should flag."""
    if moment not in ("invalid", "cold") and rng.random() < flag_share:
        options = FLAGGED
    else:
        options = {"first": FIRST_CONTACT, "nurture": NURTURE, "cold": GOING_COLD,
                   "closing": CLOSING, "invalid": INVALID, "opportunity": OPPORTUNITY,
                   "customer": CUSTOMER}[moment]
    kind, outcome, templates = rng.choice(options)
    return kind, outcome, _fill(rng.choice(templates), rng, category)


RELEASE_NOTES = {"no_need": "客户明确近期没有采购计划。", "unreachable": "一周内打了五次都没接。",
                 "not_my_region": "客户实际在外省，不在我负责的区域。",
                 "capacity": "手上项目太多，放回公海让同事跟。"}
TRANSFER_NOTES = {"ineffective_followup": "两周没有有效跟进，转给同事。",
                  "rebalance": "平衡组内负载。", "region_change": "客户总部迁址，转到对应区域。",
                  "customer_request": "客户要求换对接人。"}
