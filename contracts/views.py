"""Orders, contracts, approvals and receivables pages.

Views are thin: check the entry, validate a form, call one service or selector, then
redirect (POST/redirect/GET) or render. Records outside the viewer's boundary are 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm_site.lib.exports import csv_response
from crm_site.lib.htmx import render_htmx
from crm_site.lib.inputs import parse_id
from crm_site.lib.redirects import safe_next
from opportunities.models import Opportunity
from orgs.access import entry_required, mask_for
from orgs.rights import Entry, Operation
from orgs.selectors import rights_for

from . import selectors
from .attachments import max_attachment_bytes
from .forms import (
    AllocationForm,
    AttachmentForm,
    ContractForm,
    DecisionForm,
    LineFormSet,
    OrderForm,
    PaymentForm,
    PlanForm,
)
from .models import ApprovalStep, Contract, Order, PaymentInstalment
from .services import agreements, approvals, common, orders, payments


def _url_or_none(name: str, pk: int) -> str | None:
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return None


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _refusal(request, exc) -> None:
    messages.error(request, exc.message if isinstance(exc, common.ActionRefused)
                   else _errors(exc))


def _visible_customer(user, pk):
    from opportunities.customers.selectors import visible_customers

    customer = visible_customers(user).filter(pk=pk).first() if pk else None
    if customer is None:
        raise Http404
    return customer


def _may_edit(user, row) -> bool:
    """The owner edits; anyone else in scope only reads (managers act via approval)."""
    return row.owner_id == user.pk or rights_for(user).is_superuser


# --- orders ----------------------------------------------------------------------------------


@entry_required(Entry.ORDERS)
def order_list(request):
    status = request.GET.get("status", "")
    search = (request.GET.get("q") or "").strip()[:100]
    page = selectors.order_list(user=request.user, status=status, search=search,
                                cursor=request.GET.get("after"))
    context = {"page": page, "status": status, "q": search, "statuses": Order.Status.choices,
               "can_export": rights_for(request.user).can(Operation.EXPORT)}
    return render_htmx(request, "contracts/order_list.html", context,
                       fragment="rows" if request.GET.get("after") else None)


@entry_required(Entry.ORDERS)
def order_export(request):
    """Orders in scope as CSV; the customer's address is masked unless export-unmask."""
    if not rights_for(request.user).can(Operation.EXPORT):
        raise PermissionDenied(_("Your roles do not allow exporting data."))
    status = request.GET.get("status", "")
    queryset = selectors.visible_orders(request.user).select_related(
        "customer", "owner", "owner__employee").order_by("-created_at", "-pk")
    if status in Order.Status.values:
        queryset = queryset.filter(status=status)
    header = [_("Order"), _("Customer"), _("Customer address"), _("Owner"), _("Status"),
              _("Total"), _("Signed on"), _("Created")]
    user = request.user

    def rows():
        for order in queryset.iterator(chunk_size=2000):
            owner = getattr(order.owner, "employee", None)
            yield [str(order), order.customer.name,
                   mask_for(user, order.customer.address, "address", "export"),
                   owner.display_name if owner else order.owner.get_username(),
                   order.get_status_display(), f"{order.total:.2f}",
                   order.signed_on.isoformat() if order.signed_on else "",
                   timezone.localtime(order.created_at).strftime("%Y-%m-%d %H:%M")]

    return csv_response("orders.csv", header, rows())


@entry_required(Entry.ORDERS)
def order_new(request):
    """A new order for a won opportunity (``?opportunity=``) or a customer (``?customer=``)."""
    from opportunities.pipeline.selectors import visible_opportunities

    opportunity = None
    opp_id = request.GET.get("opportunity") or request.POST.get("opportunity")
    if opp_id:
        opportunity = visible_opportunities(request.user).filter(
            pk=parse_id(opp_id) or 0).select_related("customer").first()
        if opportunity is None:
            raise Http404
        if opportunity.status != Opportunity.Status.WON:
            messages.error(request, _("Only a won opportunity becomes an order."))
            return redirect(_url_or_none("opportunity_detail", opportunity.pk) or "order_list")
        customer = opportunity.customer
    else:
        cid = request.GET.get("customer") or request.POST.get("customer")
        customer = _visible_customer(request.user, parse_id(cid) or 0)
    initial_lines = [{}]
    if opportunity is not None:
        # One unit of the opportunity's product at the amount that was won.
        product = opportunity.product
        initial_lines = [{"product": product.pk if product else None, "quantity": 1,
                          "unit_price": opportunity.amount or (product.list_price if product
                                                               else None)}]
    if request.method == "POST":
        form = OrderForm(request.POST)
        formset = LineFormSet(request.POST, prefix="lines")
        if form.is_valid() and formset.is_valid():
            lines = _line_inputs(formset)
            try:
                order = orders.order_create(user=request.user, customer=customer, lines=lines,
                                              opportunity=opportunity,
                                              signed_on=form.cleaned_data["signed_on"],
                                              notes=form.cleaned_data["notes"])
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Order %(n)s saved as a draft.") % {"n": order})
                return redirect("order_detail", pk=order.pk)
    else:
        form = OrderForm(initial={"signed_on": timezone.localdate()})
        formset = LineFormSet(prefix="lines", initial=initial_lines)
    return render(request, "contracts/order_form.html", {
        "form": form, "formset": formset, "customer": customer, "opportunity": opportunity,
        **_catalogue(request.user),
        "customer_url": _url_or_none("customer_detail", customer.pk),
    })


def _catalogue(user) -> dict:
    """The products an order line may name and, when there are none, where they are
    added: admin for those who may add products, the import page for those who may import
    them; everyone else is told to ask an administrator."""
    from opportunities.views_importing import importable_kinds

    products = list(selectors.product_choices())
    add_url = None
    if not products:
        if user.is_staff and user.has_perm("contracts.add_product"):
            add_url = reverse("admin:contracts_product_add")
        elif "products" in importable_kinds(user):
            add_url = reverse("record_import")
    return {"products": products, "products_add_url": add_url}


def _line_inputs(formset) -> list:
    """The filled rows of an order's line formset, as the service takes them."""
    return [orders.LineInput(f.cleaned_data["product"].pk, f.cleaned_data["quantity"],
                               f.cleaned_data["unit_price"], f.cleaned_data.get("discount") or 0)
            for f in formset.forms if f.cleaned_data.get("product")]


@entry_required(Entry.ORDERS)
def order_edit(request, pk: int):
    """Change the lines of a draft order; the total is recomputed on save."""
    order = selectors.order_get(user=request.user, order_id=pk)
    if not _may_edit(request.user, order):
        raise PermissionDenied(_("Only the owner can change this order."))
    if order.status != Order.Status.DRAFT:
        messages.error(request, _("Only a draft order can be changed."))
        return redirect("order_detail", pk=pk)
    if request.method == "POST":
        form = OrderForm(request.POST)
        formset = LineFormSet(request.POST, prefix="lines")
        if form.is_valid() and formset.is_valid():
            lines = _line_inputs(formset)
            try:
                orders.order_update_lines(order_id=pk, user=request.user, lines=lines,
                                            signed_on=form.cleaned_data["signed_on"],
                                            notes=form.cleaned_data["notes"])
            except common.ActionRefused as exc:
                form.add_error(None, exc.message)
            except ValidationError as exc:
                form.add_error(None, _errors(exc))
            else:
                messages.success(request, _("Order %(n)s saved.") % {"n": order})
                return redirect("order_detail", pk=pk)
    else:
        form = OrderForm(initial={"signed_on": order.signed_on, "notes": order.notes})
        formset = LineFormSet(prefix="lines", initial=[
            {"product": li.product_id, "quantity": li.quantity, "unit_price": li.unit_price,
             "discount": li.discount} for li in order.lines.all()])
    return render(request, "contracts/order_form.html", {
        "form": form, "formset": formset, "customer": order.customer, "order": order,
        "opportunity": order.opportunity, **_catalogue(request.user),
        "customer_url": _url_or_none("customer_detail", order.customer_id),
    })


@entry_required(Entry.ORDERS, Entry.APPROVALS)
def order_detail(request, pk: int):
    order = selectors.order_get(user=request.user, order_id=pk)
    context = {
        "order": order, "lines": list(order.lines.select_related("product")),
        "allocations": list(order.allocations.select_related("contract")),
        "instalments": (instalments := selectors.instalments_of(order=order)),
        "open_instalments": [i for i in instalments if i.status != "done"],
        "history": selectors.approval_history(order=order),
        "can_edit": _may_edit(request.user, order),
        "plan_form": PlanForm(), "payment_form": PaymentForm(
            initial={"received_on": timezone.localdate()}),
        "customer_url": _url_or_none("customer_detail", order.customer_id),
        "opportunity_url": (_url_or_none("opportunity_detail", order.opportunity_id)
                            if order.opportunity_id else None),
        "needs_approval": approvals.band_for("order", order.total) is not None,
    }
    return render(request, "contracts/order_detail.html", context)


@require_POST
@entry_required(Entry.ORDERS)
def order_action(request, pk: int, action: str):
    order = selectors.order_get(user=request.user, order_id=pk)
    if not _may_edit(request.user, order):
        raise PermissionDenied(_("Only the owner can change this order."))
    actions = {"confirm": orders.order_confirm, "cancel": orders.order_cancel,
               "paid": orders.order_mark_paid}
    if action not in actions:
        raise Http404
    try:
        done = actions[action](order_id=pk, user=request.user)
    except (common.ActionRefused, ValidationError) as exc:
        _refusal(request, exc)
    else:
        messages.success(request, _("Order %(n)s: %(status)s.")
                         % {"n": done, "status": done.get_status_display()})
    return redirect("order_detail", pk=pk)


# --- contracts -------------------------------------------------------------------------------


@entry_required(Entry.CONTRACTS)
def contract_list(request):
    status = request.GET.get("status", "")
    search = (request.GET.get("q") or "").strip()[:100]
    page = selectors.contract_list(user=request.user, status=status, search=search,
                                   cursor=request.GET.get("after"))
    return render_htmx(request, "contracts/contract_list.html",
                       {"page": page, "status": status, "q": search,
                        "statuses": Contract.Status.choices},
                       fragment="rows" if request.GET.get("after") else None)


@entry_required(Entry.CONTRACTS)
def contract_new(request):
    """A new contract for a customer (``?customer=``) or for an order (``?order=``, which
    then carries the contract's amount up to the order's total)."""
    order = None
    if request.GET.get("order") or request.POST.get("order"):
        raw = request.GET.get("order") or request.POST.get("order")
        order = selectors.order_get(user=request.user, order_id=parse_id(raw) or 0)
        customer = order.customer
    else:
        raw = request.GET.get("customer") or request.POST.get("customer") or ""
        customer = _visible_customer(request.user, parse_id(raw) or 0)
    if request.method == "POST":
        form = ContractForm(request.POST)
        if form.is_valid():
            try:
                contract = agreements.contract_create(user=request.user, customer=customer,
                                                    **form.cleaned_data)
                if order is not None:
                    agreements.allocation_set(contract_id=contract.pk, order_id=order.pk,
                                            amount=min(order.total, contract.amount),
                                            user=request.user)
            except common.ActionRefused as exc:
                form.add_error(None, exc.message)
            except ValidationError as exc:
                form.add_error(None, _errors(exc))
            else:
                messages.success(request, _("Contract %(n)s created.") % {"n": contract})
                return redirect("contract_detail", pk=contract.pk)
    else:
        today = timezone.localdate()
        form = ContractForm(initial={
            "title": customer.name, "start_on": today,
            "end_on": today.replace(year=today.year + 1) if not (today.month == 2
                                                                 and today.day == 29)
            else today.replace(year=today.year + 1, day=28),
            "amount": order.total if order else None, "signed_on": today})
    return render(request, "contracts/contract_form.html",
                  {"form": form, "customer": customer, "order": order})


@entry_required(Entry.CONTRACTS, Entry.APPROVALS)
def contract_detail(request, pk: int):
    contract = selectors.contract_get(user=request.user, contract_id=pk)
    allocations = list(contract.allocations.select_related("order"))
    allocated = sum((a.amount for a in allocations), 0)
    open_orders = list(selectors.visible_orders(request.user).filter(
        customer_id=contract.customer_id).exclude(status=Order.Status.CANCELLED)
        .order_by("-pk")[:50])
    context = {
        "contract": contract, "allocations": allocations, "allocated": allocated,
        "unallocated": contract.amount - allocated, "open_orders": open_orders,
        "attachments": list(contract.attachments.all()),
        "instalments": (instalments := selectors.instalments_of(contract=contract)),
        "open_instalments": [i for i in instalments if i.status != "done"],
        "history": selectors.approval_history(contract=contract),
        "can_edit": _may_edit(request.user, contract),
        "attachment_form": AttachmentForm(), "allocation_form": AllocationForm(),
        "plan_form": PlanForm(),
        "payment_form": PaymentForm(initial={"received_on": timezone.localdate()}),
        "customer_url": _url_or_none("customer_detail", contract.customer_id),
        "needs_approval": approvals.band_for("contract", contract.amount) is not None,
        "max_mb": max_attachment_bytes() // (1024 * 1024),
    }
    return render(request, "contracts/contract_detail.html", context)


@require_POST
@entry_required(Entry.CONTRACTS)
def contract_action(request, pk: int, action: str):
    contract = selectors.contract_get(user=request.user, contract_id=pk)
    if not _may_edit(request.user, contract):
        raise PermissionDenied(_("Only the owner can change this contract."))
    try:
        if action == "submit":
            done = agreements.contract_activate(contract_id=pk, user=request.user)
            messages.success(request, _("Contract %(n)s: %(status)s.")
                             % {"n": done, "status": done.get_status_display()})
        elif action == "terminate":
            agreements.contract_terminate(contract_id=pk, user=request.user)
            messages.success(request, _("Contract terminated."))
        elif action == "attach":
            form = AttachmentForm(request.POST, request.FILES)
            if not form.is_valid():
                messages.error(request, _("Choose a file to upload."))
            else:
                agreements.attachment_add(contract_id=pk, user=request.user,
                                        upload=form.cleaned_data["file"])
                messages.success(request, _("Attachment uploaded."))
        elif action == "allocate":
            form = AllocationForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Choose an order and an amount."))
            else:
                order = selectors.order_get(user=request.user,
                                            order_id=form.cleaned_data["order"])
                agreements.allocation_set(contract_id=pk, order_id=order.pk,
                                        amount=form.cleaned_data["amount"], user=request.user)
                messages.success(request, _("Allocation saved."))
        else:
            raise Http404
    except (common.ActionRefused, ValidationError) as exc:
        _refusal(request, exc)
    return redirect("contract_detail", pk=pk)


@entry_required(Entry.CONTRACTS, Entry.APPROVALS)
def attachment_download(request, pk: int):
    """The file itself, only for people who may open its contract (404 for others)."""
    attachment = selectors.attachment_get(user=request.user, attachment_id=pk)
    inline = request.GET.get("inline") == "1"
    response = FileResponse(attachment.file.open("rb"), content_type=attachment.content_type,
                            as_attachment=not inline, filename=attachment.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- payments --------------------------------------------------------------------------------


def _subject_for_payment(request, kind: str, pk: int):
    if kind == "contract":
        row = selectors.contract_get(user=request.user, contract_id=pk)
    elif kind == "order":
        row = selectors.order_get(user=request.user, order_id=pk)
    else:
        raise Http404
    if not _may_edit(request.user, row) and not rights_for(request.user).opens(
            Entry.RECEIVABLES):
        raise PermissionDenied(_("Only the owner or finance records payments."))
    return row


@require_POST
@entry_required(Entry.CONTRACTS, Entry.ORDERS, Entry.RECEIVABLES)
def plan_set(request, kind: str, pk: int):
    row = _subject_for_payment(request, kind, pk)
    form = PlanForm(request.POST)
    target = f"{kind}_detail"
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect(target, pk=pk)
    try:
        payments.payment_plan_set(
            user=request.user, instalments=[payments.InstalmentInput(d, a)
                                            for d, a in form.cleaned_data["lines"]],
            **{f"{kind}_id": row.pk})
        messages.success(request, _("Payment plan saved."))
    except (common.ActionRefused, ValidationError) as exc:
        _refusal(request, exc)
    return redirect(target, pk=pk)


@require_POST
@entry_required(Entry.CONTRACTS, Entry.ORDERS, Entry.RECEIVABLES)
def payment_add(request, kind: str, pk: int):
    row = _subject_for_payment(request, kind, pk)
    form = PaymentForm(request.POST)
    target = f"{kind}_detail"
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect(target, pk=pk)
    instalment = PaymentInstalment.objects.filter(
        pk=form.cleaned_data["instalment"], **{kind: row}).first()
    if instalment is None:
        raise Http404
    try:
        payments.payment_record(instalment_id=instalment.pk, user=request.user,
                                amount=form.cleaned_data["amount"],
                                received_on=form.cleaned_data["received_on"],
                                note=form.cleaned_data["note"])
        messages.success(request, _("Payment recorded."))
    except (common.ActionRefused, ValidationError) as exc:
        _refusal(request, exc)
    return redirect(target, pk=pk)


@entry_required(Entry.RECEIVABLES)
def receivables(request):
    status = request.GET.get("status", "")
    page = selectors.receivables(user=request.user, status=status,
                                 cursor=request.GET.get("after"))
    return render_htmx(request, "contracts/receivables.html", {
        "page": page, "status": status, "today": timezone.localdate(),
        "statuses": [c for c in PaymentInstalment.Status.choices
                     if c[0] != PaymentInstalment.Status.DONE]},
        fragment="rows" if request.GET.get("after") else None)


# --- approvals -------------------------------------------------------------------------------


@entry_required(Entry.APPROVALS, Entry.CONTRACTS, Entry.ORDERS)
def approval_inbox(request):
    return render(request, "contracts/approval_inbox.html", {
        "waiting": selectors.approval_inbox(user=request.user),
        "decided": selectors.approval_inbox(user=request.user, decided=True, size=20),
        "form": DecisionForm(),
    })


@require_POST
@entry_required(Entry.APPROVALS, Entry.CONTRACTS, Entry.ORDERS)
def approval_decide(request, pk: int, decision: str):
    if decision not in ("approve", "reject"):
        raise Http404
    step = ApprovalStep.objects.filter(pk=pk, approver_id=request.user.pk).first()
    if step is None:
        raise Http404
    form = DecisionForm(request.POST)
    form.is_valid()
    try:
        approvals.approval_decide(step_id=pk, user=request.user,
                                 approve=decision == "approve",
                                 comment=form.cleaned_data.get("comment", ""))
        messages.success(request, _("Approved.") if decision == "approve" else _("Rejected."))
    except (common.ActionRefused, ValidationError) as exc:
        _refusal(request, exc)
    return redirect(safe_next(request, reverse("approval_inbox")))
