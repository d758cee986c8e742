"""What we know about the Maven Analytics CRM sample (``accounts.csv``, ``products.csv``,
``sales_teams.csv``, ``sales_pipeline.csv``), in one place: its columns, the prefix of its
deal numbers, the dictionary items it needs and the names it gives industries.

The kinds use it as the built-in saved mapping ``maven``; the admin's product import reads
the catalogue's columns from here too.
"""

from __future__ import annotations

from .columns import ATTRIBUTE

NAME = "maven"

# Column → field, per kind.
COLUMNS: dict[str, dict[str, str]] = {
    "customers": {
        "account": "name", "sector": "industry", "employees": "employees",
        "office_location": "address", "year_established": ATTRIBUTE,
        "revenue": ATTRIBUTE, "subsidiary_of": ATTRIBUTE,
    },
    "products": {"product": "name", "series": "series", "sales_price": "list_price"},
    "employees": {"sales_agent": "name", "manager": "manager", "regional_office": "office"},
    "opportunities": {
        "opportunity_id": "external_id", "sales_agent": "owner", "product": "product",
        "account": "customer", "deal_stage": "stage", "engage_date": "engage_date",
        "close_date": "close_date", "close_value": "amount",
    },
}

# The external IDs of its records carry the mapping's name, so that two sources with the
# same deal numbers never collide; employees and org units are numbered with it too.
PREFIX = "maven:"

# Dictionary items the sample needs and a new install lacks: the "Engaging" stage (between
# first contact and a decision) and the sectors of its accounts. Added by the data
# migration ``opportunities.0002_fu_import_dictionaries`` and, should an admin have removed
# them, again by the import itself. (dictionary, code, label, label_en, order, probability)
DICTIONARY_ITEMS = [
    ("opportunity_stage", "engaging", "接洽中", "Engaging", 15, 20),
    ("industry", "telecom", "通信", "Telecommunications", 75, None),
    ("industry", "media", "文化娱乐", "Media & entertainment", 76, None),
    ("industry", "marketing", "营销广告", "Marketing & advertising", 77, None),
    ("industry", "business_services", "商务服务", "Business services", 78, None),
    ("industry", "staffing", "人力资源服务", "Employment & staffing", 79, None),
]

# Values seen in its files (and other systems') → industry dictionary codes (keys
# compacted like headers; "technolgy" is the sample's own spelling).
INDUSTRY_SYNONYMS = {
    "technology": "technology", "technolgy": "technology", "tech": "technology",
    "software": "technology", "it": "technology", "信息技术": "technology",
    "medical": "healthcare", "healthcare": "healthcare", "医疗": "healthcare",
    "retail": "retail", "零售": "retail", "finance": "finance", "金融": "finance",
    "telecommunications": "telecom", "telecom": "telecom", "通信": "telecom",
    "entertainment": "media", "media": "media", "marketing": "marketing",
    "services": "business_services", "employment": "staffing", "staffing": "staffing",
    "manufacturing": "manufacturing", "制造": "manufacturing", "education": "education",
    "教育": "education", "realestate": "real_estate", "logistics": "logistics",
    "government": "government",
}


def presets(kind: str) -> dict[str, dict[str, str]]:
    """The built-in saved mappings of ``kind`` by name."""
    return {NAME: COLUMNS[kind]} if kind in COLUMNS else {}


def prefixes() -> dict[str, str]:
    """External-ID prefix by built-in mapping name."""
    return {NAME: PREFIX}
