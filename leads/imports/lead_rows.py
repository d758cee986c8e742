"""The lead kind's rows: recognised headers, the checks of a row and its duplicate keys.

Pure Python over preloaded dictionary matchers: checking runs a batch ahead of the writes
in a thread of its own (``lead_kind.run_import``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import NamedTuple

from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from crm_site.lib.imports.columns import (
    batches,
    header_key,
    header_names,
    match_headers,
    plan,
    split_row,
)
from crm_site.lib.imports.reading import Table
from crm_site.lib.imports.registry import ImportCounts
from orgs.dictionaries import DictionaryMatcher, dictionary_matchers

from ..models import Lead
from ..normalize import is_mainland_mobile, normalize_company, normalize_email, normalize_phone

TARGET_FIELDS = {
    "name": Lead._meta.get_field("name"),
    "company": Lead._meta.get_field("company"),
    "title": Lead._meta.get_field("title"),
    "mobile": Lead._meta.get_field("mobile"),
    "phone": Lead._meta.get_field("phone"),
    "email": Lead._meta.get_field("email"),
    "wechat": Lead._meta.get_field("wechat"),
    "address": Lead._meta.get_field("address"),
    "region": Lead._meta.get_field("region"),
    "product_category": Lead._meta.get_field("product_category"),
    "industry": Lead._meta.get_field("industry"),
    "campaign": Lead._meta.get_field("campaign"),
    "external_id": Lead._meta.get_field("external_id"),
    "platform_user_id": Lead._meta.get_field("platform_user_id"),
    "grade": Lead._meta.get_field("grade"),
    "notes": Lead._meta.get_field("notes"),
    # History from another CRM: where the lead came from, when it was first contacted or
    # created, and how it ended (converted or invalid) — the job's channel, the import
    # time and "in pool" when the file does not say.
    "channel": Lead._meta.get_field("channel"),
    "created_at": Lead._meta.get_field("created_at"),
    "status": Lead._meta.get_field("status"),
}
# Per-row columns of a new lead, in table order; every other column takes a per-batch
# constant.
_ROW_COLUMNS = frozenset([*TARGET_FIELDS, "attributes", "mobile_key", "email_key",
                          "company_key"])
_ROW_ORDER = [f.name for f in Lead._meta.concrete_fields if f.name in _ROW_COLUMNS]

# Header names recognised without a saved mapping, besides each field's own name and its
# label in either language (``header_names``).
_ALIASES = {
    "name": ["姓名", "名字", "联系人", "客户姓名", "fullname", "contactname"],
    "company": ["公司", "公司名称", "单位", "企业名称", "account", "organization"],
    "title": ["职位", "职务", "jobtitle", "position"],
    "mobile": ["手机", "手机号", "手机号码", "mobilephone", "cellphone"],
    "phone": ["电话", "座机", "tel", "telephone", "phonenumber"],
    "email": ["e-mail", "邮箱", "电子邮箱", "mail"],
    "wechat": ["微信", "微信号", "wechatid"],
    "address": ["地址", "详细地址"],
    "region": ["区域", "大区"],
    "product_category": ["product", "产品", "品类", "产品品类"],
    "industry": ["行业", "sector"],
    "campaign": ["活动", "市场活动"],
    "external_id": ["externalid", "外部id", "prospectid", "leadid", "id"],
    "notes": ["备注", "remark", "remarks", "comment"],
    "grade": ["等级", "客户等级"],
    "channel": ["渠道", "来源渠道", "线索渠道"],
    "created_at": ["createdat", "createdate", "createddate", "firstcontact",
                   "firstcontacted", "创建时间", "创建日期", "首次接触", "首次联系时间"],
    "status": ["outcome", "leadstatus", "结果", "线索状态"],
}
# What a historical outcome may be called (folded like headers), besides the statuses'
# own labels in either language.
_OUTCOMES = {
    "in_pool": ["new", "open", "新", "待跟进"],
    "converted": ["won", "closedwon", "customer", "已转化", "已成交", "成交", "转化"],
    "invalid": ["junk", "disqualified", "unqualified", "lost", "closedlost", "无效",
                "无效线索"],
}
# Lead fields that hold a dictionary code, and their dictionaries.
DICTIONARY_FIELDS = {"region": "region", "product_category": "product_category",
                     "industry": "industry", "grade": "customer_grade", "channel": "channel"}


def outcome_names() -> dict[str, str]:
    """Folded name → status code of the outcomes a lead file may give."""
    names = {}
    for code, aliases in _OUTCOMES.items():
        for name in header_names(code, Lead.Status(code).label, aliases):
            names[name] = code
    return names


_OUTCOME_NAMES: dict[str, str] = {}


def _outcome(value: str) -> str | None:
    if not _OUTCOME_NAMES:
        _OUTCOME_NAMES.update(outcome_names())
    return _OUTCOME_NAMES.get(header_key(value))


def _moment(value: str) -> str | None:
    """A date or date and time from a file, as an ISO timestamp in the install's zone;
    ``None`` if it is not one or lies in the future."""
    text = value.strip().replace("T", " ").replace("/", "-").replace(".", "-")
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            moment = datetime.strptime(text[:19] if "%S" in pattern else text[:16]
                                       if "%M" in pattern else text[:10], pattern)
        except ValueError:
            continue
        aware = timezone.make_aware(moment) if timezone.is_naive(moment) else moment
        return None if aware > timezone.now() else aware.isoformat()
    return None


def guess_mapping(headers: list[str]) -> dict[str, str]:
    """Map recognised headers to lead fields; everything else goes to the attribute bag."""
    return match_headers(headers, {
        name: header_names(name, model_field.verbose_name, _ALIASES.get(name, ()))
        for name, model_field in TARGET_FIELDS.items()})


def lead_matchers() -> dict[str, DictionaryMatcher]:
    """The dictionary matcher of each lead field that holds a code (one query)."""
    matchers = dictionary_matchers(*set(DICTIONARY_FIELDS.values()))
    return {name: matchers[code] for name, code in DICTIONARY_FIELDS.items()}




_TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")


def preview_row(cells: list[str], headers: list[str], mapping: dict, empty: set[str],
                 name_template: str, matchers: dict[str, DictionaryMatcher] | None = None,
                 ) -> tuple[dict, dict, str | None]:
    """One row's lead values, attribute bag and, if it cannot be imported, why."""
    values, attributes, problem, _mobile_key = _check_row(
        cells, plan(headers, mapping), empty, name_template,
        lead_matchers() if matchers is None else matchers)
    return values, attributes, problem


def _check_row(cells: list[str], plan: list[tuple[int, str, str]], empty: set[str],
               name_template: str, matchers: dict[str, DictionaryMatcher],
               ) -> tuple[dict, dict, str | None, str]:
    """As ``preview_row``, plus the mobile's duplicate key (computed here anyway).

    Pure Python over preloaded ``matchers``: it runs in the read-ahead thread."""
    values, attributes = split_row(cells, plan, empty)
    width = len(cells)
    if not values.get("name") and name_template:
        raw = {}
        for index, header, _target in plan:
            value = cells[index].strip() if index < width and cells[index] else ""
            raw[header] = "" if value.lower() in empty else value
        filled = _TEMPLATE_FIELD.sub(lambda m: raw.get(m.group(1), ""), name_template).strip()
        if filled and filled != _TEMPLATE_FIELD.sub("", name_template).strip():
            values["name"] = filled
    if not values.get("name"):
        return values, attributes, _("No name (map a name column or set a name template)."), ""
    for target, value in values.items():
        limit = TARGET_FIELDS[target].max_length
        if limit and len(value) > limit:
            return values, attributes, _("%(field)s is longer than %(limit)d characters.") % {
                "field": TARGET_FIELDS[target].verbose_name, "limit": limit}, ""
    for target, matcher in matchers.items():
        value = values.get(target)
        if value:
            code = matcher.match(value)
            if code is None:
                return (values, attributes,
                        matcher.refusal(capfirst(TARGET_FIELDS[target].verbose_name), value), "")
            values[target] = code
    if values.get("created_at"):
        moment = _moment(values["created_at"])
        if moment is None:
            return values, attributes, _("The created date is not a past date: %(value)s") % {
                "value": values["created_at"]}, ""
        values["created_at"] = moment
    if values.get("status"):
        outcome = _outcome(values["status"])
        if outcome is None:
            return values, attributes, _("The outcome is not one of new, converted or "
                                         "invalid: %(value)s") % {"value": values["status"]}, ""
        values["status"] = outcome
    if values.get("email") and not normalize_email(values["email"]):
        return values, attributes, _("The e-mail address is not valid."), ""
    mobile = normalize_phone(values.get("mobile", ""))
    looks_wrong = not 7 <= len(mobile) <= 15 or (
        mobile.startswith("1") and not is_mainland_mobile(mobile))
    if values.get("mobile") and looks_wrong:
        return (values, attributes,
                _("The mobile number does not look like a phone number."), mobile)
    if not any(values.get(f) for f in ("mobile", "phone", "email", "wechat", "external_id")):
        return values, attributes, _("No way to reach the lead and no external ID."), mobile
    return values, attributes, None, mobile



class _Row(NamedTuple):
    """A valid row of the file, not yet known to be new: plain values, no model instance."""

    line: int
    values: dict
    attributes: dict
    mobile_key: str
    email_key: str
    company_key: str
    keys: list[str]
    columns: tuple = ()  # the row's per-row insert values, in ``_ROW_ORDER``

    def with_columns(self) -> _Row:
        """The row with its insert values worked out (again, after a change)."""
        values, keys = self.values, {"mobile_key": self.mobile_key,
                                     "email_key": self.email_key,
                                     "company_key": self.company_key}
        columns = []
        for name in _ROW_ORDER:
            if name == "attributes":
                columns.append(json.dumps(self.attributes, ensure_ascii=False)
                               if self.attributes else "{}")
            elif name in keys:
                columns.append(keys[name])
            else:
                columns.append(values.get(name, ""))
        return self._replace(columns=tuple(columns))



class _Checked(NamedTuple):
    """One batch of the file, checked: the rows to write and the ones turned away."""

    number: int  # 1, 2, ... in file order (batch 0 holds the rows that could not be read)
    first_line: int
    size: int
    candidates: list[_Row]
    counts: ImportCounts  # rows rejected, and duplicates of an earlier line skipped


def _checked_batches(table: Table, plan, empty: set[str], name_template: str, channel: str,
                     batch_size: int, matchers: dict[str, DictionaryMatcher],
                     ) -> Iterator[_Checked]:
    """Validate and key every row, batch by batch, and drop duplicates inside the file.

    Pure Python, no database: it runs ahead of the writes in a thread of its own.
    """
    seen: dict[str, int] = {}  # key → first line in this file
    headers = table.headers
    for number, batch in enumerate(batches(table.rows, batch_size), start=1):
        candidates, counts = [], ImportCounts()
        for line, cells in batch:
            values, attributes, problem, mobile_key = _check_row(cells, plan, empty,
                                                                 name_template, matchers)
            if problem:
                counts.rejected += 1
                counts.rejects.append((line, problem, dict(zip(headers, cells, strict=False))))
                continue
            # The same keys as ``Lead.refresh_keys``, without building a model instance.
            row = _Row(line, values, attributes, mobile_key,
                       normalize_email(values.get("email", "")),
                       normalize_company(values.get("company", "")), [])
            _add_keys(row.keys, row.mobile_key, row.email_key,
                      values.get("channel") or channel, values.get("external_id", ""))
            first = next((seen[k] for k in row.keys if k in seen), None)
            if first is not None:
                counts.skipped += 1
                counts.rejects.append((line, _("Duplicate of line %(line)d in this file.")
                                       % {"line": first},
                                       dict(zip(headers, cells, strict=False))))
                continue
            for key in row.keys:
                seen[key] = line
            candidates.append(row.with_columns())
        yield _Checked(number, batch[0][0], len(batch), candidates, counts)


def _add_keys(keys: list[str], mobile_key: str, email_key: str, channel: str,
              external_id: str) -> list[str]:
    if mobile_key:
        keys.append(f"m:{mobile_key}")
    if email_key:
        keys.append(f"e:{email_key}")
    if external_id:
        keys.append(f"x:{channel}:{external_id}")
    return keys

