/* The pipeline board: drag cards between columns (SortableJS); or focus a card and press
   ← / → to move it one stage, Enter (or its "Move…" button) to pick a stage. Every move is
   one htmx POST with the card's version; the answer is the refreshed board (a stale move
   comes back refused, with the board as it is now). */
(function () {
  "use strict";
  var refocus = null;

  function board() { return document.getElementById("board"); }
  function dialog() { return document.getElementById("move-dialog"); }

  function columns() {
    return Array.prototype.map.call(document.querySelectorAll("#board .lp-column"), function (c) {
      return { code: c.dataset.stage, closed: c.dataset.closed };
    });
  }

  function refresh() {
    var qs = board().dataset.qs;
    htmx.ajax("GET", window.location.pathname + "?fragment=board" + (qs ? "&" + qs : ""),
              { target: "#board", swap: "outerHTML" });
  }

  function send(card, stage, reason) {
    var qs = board().dataset.qs;
    var url = board().dataset.moveUrl.replace("/0/", "/" + card.dataset.id + "/") + (qs ? "?" + qs : "");
    refocus = card.dataset.id;
    htmx.ajax("POST", url, {
      target: "#board", swap: "outerHTML",
      values: {
        stage: stage, version: card.dataset.version, from: "board", lost_reason: reason || "",
        csrfmiddlewaretoken: dialog().querySelector("[name=csrfmiddlewaretoken]").value
      }
    });
  }

  /* Ask for the stage (and the lost reason when needed); ``stage`` preselects one. */
  function ask(card, stage, onCancel) {
    var box = dialog(), select = box.querySelector("#move-stage");
    var reasonBox = box.querySelector("#move-reason-box");
    select.value = stage || card.dataset.stage;
    var sync = function () {
      var option = select.options[select.selectedIndex];
      reasonBox.hidden = !(option && option.dataset.closed === "lost");
    };
    select.onchange = sync;
    sync();
    box.querySelector("#move-card-name").textContent = card.getAttribute("aria-label");
    box.returnValue = "";
    box.addEventListener("close", function handler() {
      box.removeEventListener("close", handler);
      if (box.returnValue === "ok" && select.value !== card.dataset.stage) {
        send(card, select.value, reasonBox.hidden ? "" : box.querySelector("#move-reason").value);
      } else {
        if (onCancel) { onCancel(); }
        card.focus();
      }
    });
    box.showModal();
    (stage ? box.querySelector("[value=ok]") : select).focus();
  }

  function move(card, stage, closed, onCancel) {
    if (closed === "lost") { ask(card, stage, onCancel); } else { send(card, stage, ""); }
  }

  function init() {
    if (!board()) { return; }
    document.querySelectorAll("#board .lp-cards").forEach(function (list) {
      if (list._sortable || !window.Sortable) { return; }
      list._sortable = Sortable.create(list, {
        group: "pipeline", animation: 120, draggable: ".lp-card", filter: "a,button",
        preventOnFilter: false,
        onEnd: function (event) {
          if (event.from === event.to) { return; }
          var column = event.to.closest(".lp-column");
          move(event.item, column.dataset.stage, column.dataset.closed, refresh);
        }
      });
    });
    if (refocus) {
      var again = document.querySelector('#board .lp-card[data-id="' + refocus + '"]');
      if (again) { again.focus(); }
      refocus = null;
    }
  }

  document.addEventListener("keydown", function (event) {
    var card = event.target;
    if (!card.classList || !card.classList.contains("lp-card")) { return; }
    if (event.key === "Enter") { event.preventDefault(); ask(card); return; }
    if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") { return; }
    var all = columns();
    var at = all.findIndex(function (s) { return s.code === card.dataset.stage; });
    var next = all[at + (event.key === "ArrowRight" ? 1 : -1)];
    if (!next) { return; }
    event.preventDefault();
    move(card, next.code, next.closed);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".lp-move-open");
    if (button) { ask(button.closest(".lp-card")); }
  });

  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
})();
