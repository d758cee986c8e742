"""Customer and contact pages: lists, details with one timeline, entry forms, possible
duplicates with a merge, key-customer stars and transfers.

Views are thin: check the entry, validate a form, call one service or selector, render
the page or, for htmx requests, the named partial of the same template.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm_site.lib.exports import csv_response
from crm_site.lib.htmx import render_htmx
from crm_site.lib.inputs import parse_id
from leads.forms import dictionary_choices
from leads.selectors import assignable_reps
from orgs.access import Scenario, can_unmask, entry_required, may_unmask
from orgs.rights import Entry, Operation
from orgs.selectors import rights_for

from ..models import Contact, Customer
from ..pipeline.selectors import openable_opportunity_ids
from . import selectors as selectors
from . import services as services
from .forms import ContactForm, CustomerForm, MergeForm, MethodFormSet

_int = parse_id


# --- customers -----------------------------------------------------------------------------


def _list_filters(request) -> dict:
    return {
        "grade": (request.GET.get("grade") or "")[:8],
        "starred": request.GET.get("starred") == "1",
        "region": (request.GET.get("region") or "")[:64],
        "industry": (request.GET.get("industry") or "")[:64],
        "search": (request.GET.get("q") or "").strip()[:100],
        "sort": request.GET.get("sort") or "newest",
        "owner_id": _int(request.GET.get("owner")),
    }


@entry_required(Entry.CUSTOMERS)
def customer_list(request):
    filters = _list_filters(request)
    page = selectors.customer_list(user=request.user, cursor=request.GET.get("after"),
                                   **filters)
    rights = rights_for(request.user)
    reps = list(assignable_reps(user=request.user))
    context = {
        "page": page, "f": filters,
        # Managers narrow the list to one rep of their scope; a rep sees only their own.
        "reps": reps if len(reps) > 1 else [],
        "grades": dictionary_choices("customer_grade", blank=False),
        "regions": dictionary_choices("region", blank=False),
        "industries": dictionary_choices("industry", blank=False),
        "sorts": [("newest", _("Newest first")), ("name", _("Name")),
                  ("next", _("Next follow-up"))],
        "list_clear": can_unmask(request.user, "list"),
        "can_export": rights.can(Operation.EXPORT),
        "query": request.GET.urlencode(),
        "now": timezone.now(),
    }
    return render_htmx(request, "customers/customer_list.html", context,
                       fragment="rows" if request.GET.get("after") else "table")


@entry_required(Entry.CUSTOMERS)
def customer_export(request):
    """The filtered customer list as CSV; contact data masked for the export scenario."""
    if not rights_for(request.user).can(Operation.EXPORT):
        raise PermissionDenied(_("Your roles do not allow exporting data."))
    filters = _list_filters(request)
    clear = can_unmask(request.user, "export")
    header = [_("Customer"), _("Grade"), _("Key customer"), _("Region"), _("Industry"),
              _("Owner"), _("Primary contact"), _("Contact method")]

    def rows():
        cursor = None
        while True:
            page = selectors.customer_list(user=request.user, cursor=cursor, size=500,
                                           **filters)
            for c in page.rows:
                owner = getattr(c.owner, "employee", None) if c.owner else None
                method = c.primary_method
                yield [c.name, c.grade, _("yes") if c.is_starred else "", c.region,
                       c.industry, owner.display_name if owner else "",
                       c.primary_link.contact.name if c.primary_link else "",
                       selectors.method_display(request.user, method, "export", clear)
                       if method else ""]
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    return csv_response("customers.csv", header, rows())


def _follow_merged(model, pk: int, url_name: str):
    survivor = selectors.merged_survivor_id(model, pk)
    if survivor:
        return redirect(url_name, pk=survivor)
    raise Http404


def _customer_context(request, customer: Customer) -> dict:
    rights = rights_for(request.user)
    can_transfer = rights.can(Operation.TRANSFER)
    return {
        "customer": customer,
        "is_owner": customer.owner_id == request.user.pk,
        "links": selectors.customer_contacts(customer),
        "detail_clear": can_unmask(request.user, "detail"),
        "timeline": selectors.customer_timeline(customer),
        "visible_opportunities": openable_opportunity_ids(request.user,
                                                          customer_id=customer.pk),
        "duplicates": selectors.customer_duplicates(user=request.user, customer=customer),
        "can_transfer": can_transfer,
        "reps": list(assignable_reps(user=request.user)) if can_transfer else [],
        "now": timezone.now(),
    }


@entry_required(Entry.CUSTOMERS)
def customer_detail(request, pk: int):
    try:
        customer = selectors.customer_get(user=request.user, customer_id=pk)
    except Http404:
        if selectors.merged_survivor_id(Customer, pk) and _visible_survivor(request, pk):
            return _follow_merged(Customer, pk, "customer_detail")
        raise
    return render_htmx(
        request, "customers/customer_detail.html", _customer_context(request, customer),
        fragment="duplicates" if request.GET.get("part") == "duplicates" else None)


def _visible_survivor(request, pk: int) -> bool:
    survivor = selectors.merged_survivor_id(Customer, pk)
    return selectors.visible_customers(request.user).filter(pk=survivor).exists()


@entry_required(Entry.CUSTOMERS)
def customer_new(request):
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.customer_create(user=request.user, data=form.cleaned_data)
        except services.CustomerActionRefused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("Customer saved."))
            return redirect("customer_detail", pk=customer.pk)
    return render(request, "customers/customer_form.html", {"form": form, "customer": None},
                  status=400 if form.errors else 200)


@entry_required(Entry.CUSTOMERS)
def customer_edit(request, pk: int):
    customer = selectors.customer_get(user=request.user, customer_id=pk)
    form = CustomerForm(request.POST or None, instance=customer,
                        address_clear=may_unmask(request.user, None, Scenario.FORM))
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_update(user=request.user, customer_id=pk, data=form.cleaned_data)
        except services.CustomerActionRefused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("Customer saved."))
            return redirect("customer_detail", pk=pk)
    return render(request, "customers/customer_form.html",
                  {"form": form, "customer": customer}, status=400 if form.errors else 200)


@require_POST
@entry_required(Entry.CUSTOMERS)
def customer_star(request, pk: int):
    selectors.customer_get(user=request.user, customer_id=pk)
    try:
        services.customer_star(customer_id=pk, user=request.user,
                               starred=request.POST.get("starred") == "1")
    except services.CustomerActionRefused as refused:
        messages.error(request, refused.message)
    return redirect("customer_detail", pk=pk)


@require_POST
@entry_required(Entry.CUSTOMERS)
def customer_transfer(request, pk: int):
    selectors.customer_get(user=request.user, customer_id=pk)
    to_user_id = _int(request.POST.get("to_rep"))
    if not to_user_id:
        messages.error(request, _("Choose the rep who takes the customer over."))
        return redirect("customer_detail", pk=pk)
    try:
        services.customer_transfer(customer_ids=[pk], to_user_id=to_user_id,
                                   actor=request.user,
                                   reason=(request.POST.get("reason") or "")[:64])
    except services.CustomerActionRefused as refused:
        messages.error(request, refused.message)
        return redirect("customer_detail", pk=pk)
    messages.success(request, _("Customer transferred."))
    if selectors.visible_customers(request.user).filter(pk=pk).exists():
        return redirect("customer_detail", pk=pk)
    return redirect("customer_list")


def _merge(request, pk: int, *, merge, detail: str, choose: str):
    """Merge from a possible-duplicates panel: the chosen survivor keeps everything."""
    form = MergeForm(request.POST)
    if not form.is_valid() or pk not in (form.cleaned_data["survivor"],
                                         form.cleaned_data["other"]):
        messages.error(request, choose)
        return redirect(detail, pk=pk)
    try:
        survivor = merge(user=request.user, survivor_id=form.cleaned_data["survivor"],
                         other_id=form.cleaned_data["other"])
    except services.CustomerActionRefused as refused:
        messages.error(request, refused.message)
        return redirect(detail, pk=pk)
    messages.success(request, _("Merged: everything is now on %(name)s.")
                     % {"name": survivor.name})
    return redirect(detail, pk=survivor.pk)


@require_POST
@entry_required(Entry.CUSTOMERS)
def customer_merge(request, pk: int):
    selectors.customer_get(user=request.user, customer_id=pk)
    return _merge(request, pk, merge=services.customer_merge, detail="customer_detail",
                  choose=_("Choose which customer to keep."))


# --- contacts -----------------------------------------------------------------------------------


@entry_required(Entry.CUSTOMERS)
def contact_list(request):
    search = (request.GET.get("q") or "").strip()[:100]
    page = selectors.contact_list(user=request.user, search=search,
                                  cursor=request.GET.get("after"))
    return render_htmx(request, "customers/contact_list.html",
                       {"page": page, "q": search,
                        "list_clear": can_unmask(request.user, "list")},
                       fragment="rows" if request.GET.get("after") else None)


@entry_required(Entry.CUSTOMERS)
def contact_detail(request, pk: int):
    try:
        contact = selectors.contact_get(user=request.user, contact_id=pk)
    except Http404:
        survivor = selectors.merged_survivor_id(Contact, pk)
        if survivor and selectors.visible_contacts(request.user).filter(pk=survivor).exists():
            return redirect("contact_detail", pk=survivor)
        raise
    links = selectors.contact_links(user=request.user, contact=contact)
    linked = {link.customer_id for link in links}
    return render(request, "customers/contact_detail.html", {
        "contact": contact,
        "links": links,
        # The viewer's own customers this contact could also act for (a short list).
        "link_choices": [c for c in selectors.visible_customers(request.user)
                         .filter(owner=request.user).order_by("name")[:200]
                         if c.pk not in linked],
        "methods": selectors.contact_methods(contact),
        "detail_clear": can_unmask(request.user, "detail"),
        "duplicates": selectors.contact_duplicates(user=request.user, contact=contact),
    })


def _method_inputs(formset) -> list[services.MethodInput]:
    return [services.MethodInput(kind=m["kind"], value=m["value"],
                                 is_primary=bool(m.get("is_primary")))
            for m in formset.methods()]


@entry_required(Entry.CUSTOMERS)
def contact_new(request):
    customer = None
    customer_id = _int(request.GET.get("customer") or request.POST.get("customer"))
    if customer_id:
        customer = selectors.customer_get(user=request.user, customer_id=customer_id)
    form = ContactForm(request.POST or None, with_link=customer is not None)
    formset = MethodFormSet(request.POST or None, prefix="methods")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            contact = services.contact_save(
                user=request.user, data=form.cleaned_data, methods=_method_inputs(formset),
                customer_id=customer.pk if customer else None,
                role=form.cleaned_data.get("role", ""),
                is_primary=form.cleaned_data.get("is_primary", False))
        except services.CustomerActionRefused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("Contact saved."))
            if customer:
                return redirect("customer_detail", pk=customer.pk)
            return redirect("contact_detail", pk=contact.pk)
    return render(request, "customers/contact_form.html",
                  {"form": form, "formset": formset, "customer": customer, "contact": None},
                  status=400 if request.method == "POST" else 200)


@entry_required(Entry.CUSTOMERS)
def contact_edit(request, pk: int):
    contact = selectors.contact_get(user=request.user, contact_id=pk)
    stored = selectors.contact_methods(contact)
    # Values the viewer may not see are never sent: the field stays empty, the masked value
    # is its placeholder, and the stored value is kept unless a new one is typed.
    clear = may_unmask(request.user, None, Scenario.FORM)
    placeholders = {m.pk: selectors.method_display(request.user, m, Scenario.FORM, False)
                    for m in stored if not clear}
    initial = [{"kind": m.kind, "value": m.value if clear else "", "stored": m.pk,
                "is_primary": m.is_primary} for m in stored]
    form = ContactForm(request.POST or None, instance=contact)
    formset = MethodFormSet(request.POST or None, prefix="methods",
                            initial=None if request.method == "POST" else initial,
                            stored={m.pk: m.value for m in stored}, placeholders=placeholders)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            services.contact_save(user=request.user, contact_id=pk, data=form.cleaned_data,
                                  methods=_method_inputs(formset))
        except services.CustomerActionRefused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("Contact saved."))
            return redirect("contact_detail", pk=pk)
    return render(request, "customers/contact_form.html",
                  {"form": form, "formset": formset, "customer": None, "contact": contact},
                  status=400 if request.method == "POST" else 200)


@require_POST
@entry_required(Entry.CUSTOMERS)
def contact_merge(request, pk: int):
    selectors.contact_get(user=request.user, contact_id=pk)
    return _merge(request, pk, merge=services.contact_merge, detail="contact_detail",
                  choose=_("Choose which contact to keep."))


@require_POST
@entry_required(Entry.CUSTOMERS)
def contact_link(request, pk: int):
    """Let a contact act for one more customer (or change its role there)."""
    selectors.contact_get(user=request.user, contact_id=pk)
    customer_id = _int(request.POST.get("customer"))
    if not customer_id:
        messages.error(request, _("Choose a customer."))
        return redirect("contact_detail", pk=pk)
    try:
        services.contact_link(user=request.user, contact_id=pk, customer_id=customer_id,
                              role=(request.POST.get("role") or "")[:100],
                              is_primary=request.POST.get("is_primary") == "on")
    except services.CustomerActionRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Contact linked."))
    return redirect("contact_detail", pk=pk)


@require_POST
@entry_required(Entry.CUSTOMERS)
def contact_unlink(request, pk: int):
    selectors.contact_get(user=request.user, contact_id=pk)
    try:
        services.contact_unlink(user=request.user, contact_id=pk,
                                customer_id=_int(request.POST.get("customer")) or 0)
    except services.CustomerActionRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("The contact no longer acts for that customer."))
    if selectors.visible_contacts(request.user).filter(pk=pk).exists():
        return redirect("contact_detail", pk=pk)
    return redirect("contact_list")
