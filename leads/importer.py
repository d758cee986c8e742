"""File import of leads (CSV and XLSX), shared by the upload page and ``import_leads``.

Upload → the header is read and mapped → a background task validates every row, reports
rejects by line number, skips or merges duplicates (inside the file and against the
database) and writes good rows in short batches (one ``INSERT … SELECT FROM unnest``
of the new leads and their ``created`` events, one transaction per batch). Re-importing
the same file adds nothing twice: external ids, mobiles and e-mails already present are
duplicates.

The stages overlap (``crm_site.lib.overlap``): rows are checked a batch ahead in a thread
of their own, and outside a transaction two batches are written at once on two
connections. Duplicates inside the file are found while checking, before any batch is
written, so batches written side by side never hold the same person; a lead that rows of
two batches merge into is locked by the first and read afresh by the second.

Budget: the whole file is parsed up front (~1 KB a row: ~100 MB for 100,000 rows); a
batch of 2,000 rows in hand adds ~2,000 small tuples and one ~1 MB statement, and at most
a few batches are in hand. ``crm_bench`` measures the throughput (target ≥ 20,000 rows/s
against a million leads).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from crm_site.lib.bulk import text_array_literal
from crm_site.lib.overlap import read_ahead, side_by_side
from orgs.dictionaries import DictionaryMatcher, dictionary_matchers, fold

from .models import Lead, LeadEvent, LeadPool
from .models_intake import ImportJob, ImportRejectedRow
from .normalize import is_mainland_mobile, normalize_company, normalize_email, normalize_phone

BATCH_SIZE = 2000
# Connections writing batches at once (outside a transaction, on PostgreSQL): two keep
# both cores of a small server busy; more only queue up behind each other.
WRITERS = 2

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
}
# Per-row columns of a new lead, in table order; every other column takes a per-batch
# constant.
_ROW_COLUMNS = frozenset([*TARGET_FIELDS, "attributes", "mobile_key", "email_key",
                          "company_key"])
_ROW_ORDER = [f.name for f in Lead._meta.concrete_fields if f.name in _ROW_COLUMNS]
ATTRIBUTE = "__attribute__"  # keep the column in the lead's attribute bag
IGNORE = "__ignore__"

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
}
# Lead fields that hold a dictionary code, and their dictionaries.
DICTIONARY_FIELDS = {"region": "region", "product_category": "product_category",
                     "industry": "industry", "grade": "customer_grade"}
DEFAULT_EMPTY_MARKERS = ["select", "n/a", "na", "null", "none", "-", "--"]


class ImportFileError(Exception):
    """The file cannot be read at all (wrong type, empty, no header)."""


def detect_encoding(raw: bytes) -> str:
    """UTF-8 with or without BOM, else GB18030 (a superset of GBK and GB2312)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    try:
        raw.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ImportFileError(_("The file is neither UTF-8 nor GBK/GB18030 text.")) from exc
    return "gb18030"


@dataclass
class Table:
    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (line number in the file, cells)
    encoding: str
    total: int


def read_table(raw: bytes, filename: str) -> Table:
    """Parse CSV or XLSX bytes into a header and numbered rows."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        return _read_xlsx(raw)
    if not name.endswith((".csv", ".txt")):
        raise ImportFileError(_("Upload a .csv or .xlsx file."))
    encoding = detect_encoding(raw)
    text = raw.decode(encoding)
    lines = list(csv.reader(io.StringIO(text, newline="")))
    if not lines or not any(cell.strip() for cell in lines[0]):
        raise ImportFileError(_("The file has no header row."))
    headers = [cell.strip() for cell in lines[0]]
    # "".join(row).strip() is any(cell.strip() for cell in row) in one call per row.
    body = [(number, row) for number, row in enumerate(lines[1:], start=2)
            if "".join(row).strip()]
    return Table(headers=headers, rows=iter(body), encoding=encoding, total=len(body))


def _read_xlsx(raw: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:
        raise ImportFileError(_("The file is not a readable Excel (.xlsx) workbook.")) from exc
    sheet = workbook.worksheets[0]
    values = [["" if v is None else str(v).strip() for v in row]
              for row in sheet.iter_rows(values_only=True)]
    workbook.close()
    if not values or not any(values[0]):
        raise ImportFileError(_("The file has no header row."))
    body = [(number, row) for number, row in enumerate(values[1:], start=2) if any(row)]
    return Table(headers=values[0], rows=iter(body), encoding="xlsx", total=len(body))


def header_names(target: str, label=None, aliases=()) -> set[str]:
    """What a column of ``target`` may be headed: the field's name, its label in every UI
    language and the aliases, folded as ``header_key`` folds headers."""
    names = {target, *aliases}
    if label is not None:
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                names.add(str(label))
    return {header_key(name) for name in names} - {""}


def header_key(header: str) -> str:
    """A header as it is compared: width- and case-folded, without spaces, underscores or
    hyphens (``Product_Category`` = ``product category`` = ``productcategory``)."""
    return fold(header)


def match_headers(headers: list[str], fields: dict[str, set[str]]) -> dict[str, str]:
    """Map each header that names a field (``header_names``) to it, the first column
    winning when two name the same field; every other column goes to the attribute bag.
    Lead and record imports both map their columns here."""
    mapping, taken = {}, set()
    for header in headers:
        if not header:
            continue
        key = header_key(header)
        target = next((f for f, names in fields.items() if key in names and f not in taken),
                      ATTRIBUTE)
        if target != ATTRIBUTE:
            taken.add(target)
        mapping[header] = target
    return mapping


def guess_mapping(headers: list[str]) -> dict[str, str]:
    """Map recognised headers to lead fields; everything else goes to the attribute bag."""
    return match_headers(headers, {
        name: header_names(name, model_field.verbose_name, _ALIASES.get(name, ()))
        for name, model_field in TARGET_FIELDS.items()})


def lead_matchers() -> dict[str, DictionaryMatcher]:
    """The dictionary matcher of each lead field that holds a code (one query)."""
    matchers = dictionary_matchers(*set(DICTIONARY_FIELDS.values()))
    return {name: matchers[code] for name, code in DICTIONARY_FIELDS.items()}


@dataclass
class ImportCounts:
    total: int = 0
    accepted: int = 0
    merged: int = 0
    skipped: int = 0
    rejected: int = 0
    rejects: list[tuple[int, str, dict]] = field(default_factory=list)

    def add(self, other: ImportCounts) -> None:
        """Count a batch's outcome in."""
        self.accepted += other.accepted
        self.merged += other.merged
        self.skipped += other.skipped
        self.rejected += other.rejected
        self.rejects += other.rejects


_TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")


def _row_to_lead(cells: list[str], headers: list[str], mapping: dict, empty: set[str],
                 name_template: str, matchers: dict[str, DictionaryMatcher] | None = None,
                 ) -> tuple[dict, dict, str | None]:
    """One row's lead values, attribute bag and, if it cannot be imported, why."""
    values, attributes, problem, _mobile_key = _check_row(
        cells, _plan(headers, mapping), empty, name_template,
        lead_matchers() if matchers is None else matchers)
    return values, attributes, problem


def _plan(headers: list[str], mapping: dict) -> list[tuple[int, str, str]]:
    """``(column index, header, target)`` of every named column, worked out once a file."""
    return [(index, header, mapping.get(header, ATTRIBUTE))
            for index, header in enumerate(headers) if header]


def split_row(cells: list[str], plan: list[tuple[int, str, str]], empty: set[str], *,
              first_wins: bool = False) -> tuple[dict, dict]:
    """A row's mapped values and its attribute bag (named columns mapped to nothing).

    Blank cells and the file's empty markers (``Select``) are dropped; when two columns map
    to the same field the last one wins, or the first with ``first_wins``.
    """
    values, attributes = {}, {}
    width = len(cells)
    for index, header, target in plan:
        value = cells[index].strip() if index < width and cells[index] else ""
        if not value or target == IGNORE or value.lower() in empty:
            continue
        if target == ATTRIBUTE:
            attributes[header] = value
        elif not (first_wins and target in values):
            values[target] = value
    return values, attributes


def _check_row(cells: list[str], plan: list[tuple[int, str, str]], empty: set[str],
               name_template: str, matchers: dict[str, DictionaryMatcher],
               ) -> tuple[dict, dict, str | None, str]:
    """As ``_row_to_lead``, plus the mobile's duplicate key (computed here anyway).

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


def _batches(rows: Iterator, size: int) -> Iterator[list]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


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


def run_import(*, table: Table, pool: LeadPool, channel: str, mapping: dict, actor,
               merge: bool = False, name_template: str = "", empty_markers=None,
               on_progress: Callable[[int, ImportCounts], None] | None = None,
               batch_size: int | None = None) -> ImportCounts:
    """Import every row of ``table`` into ``pool``; returns the counts and rejected rows.

    A file of several batches is worked in overlapping stages (``crm_site.lib.overlap``):
    the next batch is checked in a thread of its own while earlier ones are written, and,
    outside a transaction (the import task, ``import_leads``), two batches
    are written at once on two connections, each batch in its own transaction. Inside a
    transaction every batch is written on the caller's connection, one after the other.
    """
    empty = {m.lower() for m in (empty_markers if empty_markers is not None
                                 else DEFAULT_EMPTY_MARKERS)}
    batch_size = batch_size or BATCH_SIZE
    counts = ImportCounts(total=table.total)
    processed = 0
    from .intake.collision import policy_for

    policy = policy_for(channel, "import")
    batches = _checked_batches(table, _plan(table.headers, mapping), empty, name_template,
                               channel, batch_size, lead_matchers())
    several = table.total > batch_size
    if several:
        batches = read_ahead(batches)

    def write(checked: _Checked) -> ImportCounts:
        return _write_batch(checked.candidates, pool=pool, channel=channel, actor=actor,
                            merge=merge, policy=policy)

    if several and WRITERS > 1 and (
            not connection.in_atomic_block):
        written = side_by_side(batches, write, workers=WRITERS)
    else:
        written = ((checked, write(checked)) for checked in batches)
    for checked, outcome in written:
        counts.add(checked.counts)
        counts.add(outcome)
        processed += checked.size
        if on_progress:
            on_progress(processed, counts)
    counts.rejects.sort(key=lambda reject: reject[0])  # line order, whoever found them
    return counts


class _Checked(NamedTuple):
    """One batch of the file, checked: the rows to write and the ones turned away."""

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
    for batch in _batches(table.rows, batch_size):
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
            _add_keys(row.keys, row.mobile_key, row.email_key, channel,
                      values.get("external_id", ""))
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
        yield _Checked(len(batch), candidates, counts)


def _add_keys(keys: list[str], mobile_key: str, email_key: str, channel: str,
              external_id: str) -> list[str]:
    if mobile_key:
        keys.append(f"m:{mobile_key}")
    if email_key:
        keys.append(f"e:{email_key}")
    if external_id:
        keys.append(f"x:{channel}:{external_id}")
    return keys


class _Hit(NamedTuple):
    """A lead already in the database that a row of the file repeats."""

    pk: int
    channel: str
    external_id: str


def _existing(candidates: list[_Row], channel: str) -> dict[str, _Hit]:
    """Leads already in the database under any key of the batch, by key (one query)."""
    mobiles = [row.mobile_key for row in candidates if row.mobile_key]
    emails = [row.email_key for row in candidates if row.email_key]
    externals = [row.values["external_id"] for row in candidates
                 if row.values.get("external_id")]
    if not (mobiles or emails or externals):
        return {}
    # One array per key instead of IN lists of 2,000 parameters (half the time, on both
    # sides). Each test repeats its partial index's predicate: PostgreSQL proves that a
    # list of values implies it only up to 100 values, and without it the lookup is a
    # sequential scan (~250 ms a batch at a million leads).
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT id, mobile_key, email_key, channel, external_id
            FROM {Lead._meta.db_table}
            WHERE (mobile_key = ANY(%s::text[]) AND NOT (mobile_key = ''))
               OR (email_key = ANY(%s::text[]) AND NOT (email_key = ''))
               OR (channel = %s AND external_id = ANY(%s::text[])
                   AND NOT (external_id = ''))
            ORDER BY id
            """,
            [text_array_literal(mobiles), text_array_literal(emails), channel,
             text_array_literal(externals)],
        )
        rows = cursor.fetchall()
    found: dict[str, _Hit] = {}
    for pk, mobile_key, email_key, lead_channel, external_id in rows:
        hit = _Hit(pk, lead_channel, external_id)
        for key in _add_keys([], mobile_key, email_key, lead_channel, external_id):
            found.setdefault(key, hit)
    return found


def _customer_hits(rows: list[_Row]) -> dict[str, tuple[int | None, int | None]]:
    """Customers and contacts already holding a key of the batch: key → (owner, customer).

    Keys are ``m:``/``e:`` (a contact method's phone or e-mail) and ``c:`` (a customer's
    name). Two statements per batch, arrays instead of parameter lists (see ``_existing``).
    """
    phones = [row.mobile_key for row in rows if row.mobile_key]
    emails = [row.email_key for row in rows if row.email_key]
    companies = [row.company_key for row in rows if row.company_key]
    found: dict[str, tuple[int | None, int | None]] = {}
    if not (phones or emails or companies):
        return found
    from opportunities.models import ContactMethod, Customer, CustomerContact

    with connection.cursor() as cursor:
        if phones or emails:
            cursor.execute(
                f"""
                SELECT CASE WHEN m.kind = 'email' THEN 'e:' ELSE 'm:' END || m.value_key,
                       c.owner_id, c.id
                FROM {ContactMethod._meta.db_table} m
                LEFT JOIN {CustomerContact._meta.db_table} cc ON cc.contact_id = m.contact_id
                LEFT JOIN {Customer._meta.db_table} c
                       ON c.id = cc.customer_id AND c.merged_into_id IS NULL
                WHERE ((m.kind IN ('mobile', 'phone') AND m.value_key = ANY(%s::text[]))
                       OR (m.kind = 'email' AND m.value_key = ANY(%s::text[])))
                  AND NOT (m.value_key = '')
                ORDER BY (c.owner_id IS NULL), cc.is_primary DESC, m.id
                """,
                [text_array_literal(phones), text_array_literal(emails)],
            )
            for key, owner_id, customer_id in cursor.fetchall():
                found.setdefault(key, (owner_id, customer_id))
        if companies:
            cursor.execute(
                f"""
                SELECT 'c:' || name_key, owner_id, id FROM {Customer._meta.db_table}
                WHERE name_key = ANY(%s::text[]) AND NOT (name_key = '')
                  AND merged_into_id IS NULL
                ORDER BY (owner_id IS NULL), id
                """,
                [text_array_literal(companies)],
            )
            for key, owner_id, customer_id in cursor.fetchall():
                found.setdefault(key, (owner_id, customer_id))
    return found


def _customer_keys(row: _Row) -> list[str]:
    keys = []
    if row.mobile_key:
        keys.append(f"m:{row.mobile_key}")
    if row.email_key:
        keys.append(f"e:{row.email_key}")
    if row.company_key:
        keys.append(f"c:{row.company_key}")
    return keys


def _attach_new(attach: list[tuple[_Row, str, int, int]], *, pool, channel: str, actor_id,
                now) -> None:
    """Hand freshly inserted leads that belong to a known customer to its owner, linked to
    the customer, with an ASSIGNED event each (one UPDATE for the batch)."""
    from .pools.due import refresh_due
    from .subjects import LEADS

    kinds, keys, owners, customers = [], [], [], []
    for _row, key, owner_id, customer_id in attach:
        kinds.append(key[0])
        keys.append(key[2:])
        owners.append(str(owner_id))
        customers.append(str(customer_id))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH hits AS (
                SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::bigint[])
                    AS h(kind, key, owner_id, customer_id)
            )
            UPDATE {Lead._meta.db_table} AS l
            SET owner_id = h.owner_id, customer_id = h.customer_id, status = 'assigned',
                assigned_at = %s
            FROM hits h
            WHERE l.pool_id = %s AND l.channel = %s AND l.created_at = %s
              AND l.owner_id IS NULL
              AND ((h.kind = 'm' AND l.mobile_key = h.key)
                   OR (h.kind = 'e' AND l.email_key = h.key)
                   OR (h.kind = 'c' AND l.company_key = h.key))
            RETURNING l.id, l.owner_id
            """,
            [text_array_literal(kinds), text_array_literal(keys), text_array_literal(owners),
             text_array_literal(customers), now, pool.pk, channel, now],
        )
        assigned = cursor.fetchall()
    LeadEvent.objects.bulk_create(
        LeadEvent(lead_id=pk, kind=LeadEvent.Kind.ASSIGNED, actor_id=actor_id,
                  to_owner_id=owner_id, from_pool=pool, to_pool=pool, reason="collision",
                  created_at=now)
        for pk, owner_id in assigned)
    refresh_due(LEADS, ids=[pk for pk, _owner in assigned])


def _write_batch(candidates: list[_Row], *, pool, channel, actor, merge: bool,
                 policy: str = "refuse") -> ImportCounts:
    """Write one batch in one transaction; returns what became of its rows. Rows that are
    already leads are skipped or merged (the job's choice; under the ``pool`` policy they
    enter the pool flagged); rows that are already customers or contacts follow the
    channel's collision policy (``leads.intake.collision``)."""
    counts = ImportCounts()
    if not candidates:
        return counts
    now = timezone.now()
    actor_id = actor.pk if actor is not None else None
    with transaction.atomic():
        existing = _existing(candidates, channel)
        fresh = [row for row in candidates
                 if not any(k in existing for k in row.keys)]
        known = _customer_hits(fresh)
        new, merges, attach = [], [], []
        for row in candidates:
            hit = next((existing[k] for k in row.keys if k in existing), None)
            owner_key = next((k for k in _customer_keys(row) if k in known), None)
            if hit is None and owner_key is not None:
                owner_id, customer_id = known[owner_key]
                if policy == "refuse":
                    counts.skipped += 1
                    counts.rejects.append((row.line, _("Already a customer or contact in "
                                                       "LeadPool: skipped."), {}))
                    continue
                if policy == "attach" and owner_id is not None:
                    attach.append((row, owner_key, owner_id, customer_id))
                else:
                    row.attributes["_possible_duplicates"] = [
                        {"kind": "customer", "id": customer_id, "on": owner_key[0]}]
                    row = row.with_columns()
                new.append(row)
            elif hit is not None and policy == "pool" and not (
                    row.values.get("external_id") and hit.external_id ==
                    row.values.get("external_id") and hit.channel == channel):
                row.attributes["_possible_duplicates"] = [{"kind": "lead", "id": hit.pk}]
                new.append(row.with_columns())
            elif hit is None:
                new.append(row)
            elif merge:
                merges.append((row, hit.pk))
            else:
                counts.skipped += 1
                counts.rejects.append((row.line,
                                       _("Already in LeadPool (lead %(id)d): skipped.")
                                       % {"id": hit.pk}, {}))
        if new:
            _insert_new(new, pool=pool, channel=channel, actor_id=actor_id, now=now)
        if attach:
            _attach_new(attach, pool=pool, channel=channel, actor_id=actor_id, now=now)
        merged = _merge(merges)
        if merged:
            Lead.objects.bulk_update(list(merged.values()),
                                     [*TARGET_FIELDS, "attributes", "mobile_key", "email_key",
                                      "company_key"])
            LeadEvent.objects.bulk_create(
                [LeadEvent(lead=lead, kind=LeadEvent.Kind.MERGED, actor_id=actor_id,
                           from_pool_id=lead.pool_id, to_pool_id=lead.pool_id,
                           from_owner_id=lead.owner_id, to_owner_id=lead.owner_id,
                           reason=channel, note=_("Merged from a file import."),
                           created_at=now)
                 for lead in merged.values()]
            )
    counts.accepted += len(new)
    counts.merged += len(merged)
    return counts


def _merge(merges: list[tuple[_Row, int]]) -> dict[int, Lead]:
    """Fill the blank fields of existing leads from the rows that repeat them (in file
    order; the lead's own values and attributes win).

    The leads are locked first (in id order): a rep editing one, or another batch of the
    same file merging into it, waits, and what it wrote is read before filling in.
    """
    if not merges:
        return {}
    leads = {lead.pk: lead for lead in Lead.objects.select_for_update()
             .filter(pk__in={pk for _row, pk in merges}).order_by("pk")}
    merged: dict[int, Lead] = {}
    for row, pk in merges:
        lead = leads[pk]
        for name in TARGET_FIELDS:
            if not getattr(lead, name) and row.values.get(name):
                setattr(lead, name, row.values[name])
        lead.attributes = {**row.attributes, **(lead.attributes or {})}
        lead.refresh_keys()
        merged[pk] = lead
    return merged


def _insert_new(rows: list[_Row], *, pool, channel: str, actor_id, now) -> None:
    """Insert the new leads and their CREATED events in one statement.

    ``bulk_create`` spent ~100 µs a row in Python preparing 30 field values one by one
    (``crm_bench``, 2 cores), twice the whole budget of a 20,000 rows/s import. Here each
    per-row column travels as one array (``unnest``), every other column is a constant,
    by default the model field's default (so a field added later is filled here as
    well), and a data-modifying CTE writes the events from the ids the insert returns.
    """
    lead_columns, lead_select, params = [], [], []
    # One array literal per column, from the values the checking thread prepared.
    arrays = [text_array_literal(column) for column in zip(*(row.columns for row in rows),
                                                       strict=True)]
    for model_field in _insertable(Lead):
        lead_columns.append(connection.ops.quote_name(model_field.column))
        # No casts to varchar(n): they truncate, while assigning text raises on a value
        # that is too long, as ``bulk_create`` did. Constants take the column's type.
        if model_field.name in _ROW_COLUMNS:
            number = _ROW_ORDER.index(model_field.name) + 1
            json_cast = "::jsonb" if model_field.get_internal_type() == "JSONField" else ""
            lead_select.append(f"u.c{number}{json_cast}")
        else:
            lead_select.append("%s")
            params.append(_constant(model_field, {"pool": pool.pk, "channel": channel,
                                                  "created_by": actor_id,
                                                  "created_at": now}))
    params += arrays
    event_columns, event_select = [], []
    for model_field in _insertable(LeadEvent):
        event_columns.append(connection.ops.quote_name(model_field.column))
        if model_field.name == "lead":
            event_select.append("new.id")
        else:
            event_select.append("%s")
            params.append(_constant(model_field, {
                "kind": LeadEvent.Kind.CREATED.value, "actor": actor_id, "to_pool": pool.pk,
                "reason": channel, "created_at": now}))
    unnest = ", ".join(["%s::text[]"] * len(arrays))
    aliases = ", ".join(f"c{number}" for number in range(1, len(arrays) + 1))
    sql = f"""
        WITH new AS (
            INSERT INTO {Lead._meta.db_table} ({", ".join(lead_columns)})
            SELECT {", ".join(lead_select)} FROM unnest({unnest}) AS u({aliases})
            RETURNING id
        )
        INSERT INTO {LeadEvent._meta.db_table} ({", ".join(event_columns)})
        SELECT {", ".join(event_select)} FROM new
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _insertable(model) -> list:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _constant(model_field, values: dict):
    value = values[model_field.name] if model_field.name in values else model_field.get_default()
    return model_field.get_db_prep_save(value, connection)




def run_job(job: ImportJob) -> ImportCounts:
    """Run a queued job: read its file, import, record progress and rejected rows."""
    with job.file.open("rb") as handle:
        raw = handle.read()
    table = read_table(raw, job.original_name)
    ImportJob.objects.filter(pk=job.pk).update(total_rows=table.total, encoding=table.encoding)

    def progress(processed: int, counts: ImportCounts) -> None:
        ImportJob.objects.filter(pk=job.pk).update(
            processed_rows=processed, accepted=counts.accepted, merged=counts.merged,
            skipped=counts.skipped, rejected=counts.rejected)

    counts = run_import(
        table=table, pool=job.pool, channel=job.channel, mapping=job.mapping,
        actor=job.created_by, merge=job.duplicate_mode == ImportJob.DuplicateMode.MERGE,
        name_template=job.name_template, empty_markers=job.empty_markers or None,
        on_progress=progress,
    )
    ImportRejectedRow.objects.filter(job=job).delete()
    ImportRejectedRow.objects.bulk_create(
        [ImportRejectedRow(job=job, line=line, reason=reason, data=data)
         for line, reason, data in counts.rejects], batch_size=2000)
    return counts
