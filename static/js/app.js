/* Behaviour shared by every page, as delegated listeners (they also serve content that
 * htmx swaps in later). The Content-Security-Policy allows no inline script or handler:
 * a template asks for behaviour with data attributes instead.
 *
 *   <form data-confirm="Delete?">, <button data-confirm="Merge?">  ask before going on
 *   <input type="checkbox" data-check-all="leads">                  ticks every name=leads
 *   <select data-navigate="owner">                                  reloads with ?owner=…
 *   #add-line + #lines tr.line + #id_lines-TOTAL_FORMS               adds an order line
 *   .lp-pick-customer (lead conversion)                              picks a customer
 *   [data-testid=bell-slot]       not refreshed while its menu is open (it would close it)
 */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  }, true);

  document.addEventListener("click", function (event) {
    var asking = event.target.closest("button[data-confirm]");
    if (asking && !window.confirm(asking.dataset.confirm)) {
      event.preventDefault();
      event.stopPropagation();
      return;
    }
    var all = event.target.closest("input[data-check-all]");
    if (all) {
      document.querySelectorAll('input[name="' + all.dataset.checkAll + '"]')
        .forEach(function (box) { box.checked = all.checked; });
      return;
    }
    if (event.target.closest("#add-line")) {
      addOrderLine();
      return;
    }
    var pick = event.target.closest(".lp-pick-customer");
    if (pick) {
      var choice = document.getElementById("customer-choice");
      document.getElementById("id_customer_id").value = pick.dataset.id;
      document.getElementById("id_customer_name").value = pick.dataset.name;
      choice.textContent = choice.dataset.linking;
      document.getElementById("customer-options").innerHTML = "";
    }
  }, true);

  document.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-navigate]");
    if (select) {
      var params = new URLSearchParams();
      if (select.value) { params.set(select.dataset.navigate, select.value); }
      window.location.search = params.toString();
    }
  });

  document.addEventListener("input", function (event) {
    if (event.target.id !== "id_customer_name") { return; }
    var choice = document.getElementById("customer-choice");
    document.getElementById("id_customer_id").value = "";
    if (choice) { choice.textContent = choice.dataset.creating; }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var slot = event.detail.elt;
    if (slot && slot.dataset && slot.dataset.testid === "bell-slot" &&
        document.querySelector(".lp-bell-menu.show")) {
      event.preventDefault();
    }
  });

  // "Busy, try again" (a lock or statement timeout) on an htmx request: say so above the
  // page instead of leaving the click without an answer.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    if (!xhr || xhr.status !== 503) { return; }
    var main = document.querySelector("main");
    if (!main) { return; }
    var alert = document.createElement("div");
    alert.className = "alert alert-warning";
    alert.setAttribute("role", "alert");
    alert.dataset.testid = "busy";
    alert.textContent = xhr.responseText;
    main.prepend(alert);
  });

  function addOrderLine() {
    var total = document.getElementById("id_lines-TOTAL_FORMS");
    var rows = document.querySelectorAll("#lines tr.line");
    var clone = rows[rows.length - 1].cloneNode(true);
    var n = parseInt(total.value, 10);
    clone.querySelectorAll("[name]").forEach(function (el) {
      el.name = el.name.replace(/lines-\d+-/, "lines-" + n + "-");
      if (el.tagName === "INPUT") { el.value = ""; } else { el.selectedIndex = 0; }
    });
    clone.querySelectorAll(".text-danger").forEach(function (el) { el.remove(); });
    rows[rows.length - 1].after(clone);
    total.value = n + 1;
  }
})();
