/* The QA score sheet from the keyboard: ↑/↓ (or J/K) move between scorecard items, a digit
   scores the focused item, P / F / C choose pass / fail / needs coaching, Ctrl+Enter saves.
   The sheet is swapped in by htmx after each save (the next item), so the handler is
   bound once on the document and finds the current sheet each time. */
(function () {
  "use strict";

  function sheet() { return document.getElementById("qa-sheet"); }
  function rows() {
    var form = sheet();
    return form ? Array.prototype.slice.call(form.querySelectorAll(".qa-score-row")) : [];
  }
  function current() {
    var all = rows();
    var focused = document.activeElement && document.activeElement.closest
      ? document.activeElement.closest(".qa-score-row") : null;
    return focused && all.indexOf(focused) >= 0 ? focused : null;
  }
  function focusRow(index) {
    var all = rows();
    if (!all.length) { return; }
    var row = all[Math.max(0, Math.min(index, all.length - 1))];
    all.forEach(function (r) { r.classList.remove("bg-primary-subtle"); });
    row.classList.add("bg-primary-subtle");
    row.focus();
  }
  function typing(target) {
    return target && (target.tagName === "TEXTAREA" || target.tagName === "SELECT" ||
      (target.tagName === "INPUT" && target.type !== "radio"));
  }

  document.addEventListener("keydown", function (event) {
    var form = sheet();
    if (!form) { return; }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    if (typing(event.target) || event.altKey || event.ctrlKey || event.metaKey) { return; }
    var all = rows();
    var row = current();
    var index = row ? all.indexOf(row) : -1;
    if (event.key === "ArrowDown" || event.key === "j") {
      event.preventDefault(); focusRow(index + 1); return;
    }
    if (event.key === "ArrowUp" || event.key === "k") {
      event.preventDefault(); focusRow(index - 1); return;
    }
    if (/^[0-9]$/.test(event.key)) {
      if (!row) { focusRow(0); row = current(); index = 0; }
      if (!row || Number(event.key) > Number(row.dataset.max)) { return; }
      var radio = form.querySelector('input[name="' + row.dataset.name + '"][value="' + event.key + '"]');
      if (radio) {
        event.preventDefault();
        radio.checked = true;
        focusRow(index + 1);
      }
      return;
    }
    var verdicts = { p: "pass", f: "fail", c: "coaching" };
    var verdict = verdicts[event.key.toLowerCase()];
    if (verdict) {
      var choice = form.querySelector('input[name="verdict"][value="' + verdict + '"]');
      if (choice) { event.preventDefault(); choice.checked = true; }
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "qa-item") { focusRow(0); }
  });
  document.addEventListener("DOMContentLoaded", function () { if (sheet()) { focusRow(0); } });
})();
