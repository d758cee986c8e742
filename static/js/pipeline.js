/* The pipeline board: drag cards between columns (SortableJS), or move the focused card
   with ← / → ; every move is one htmx POST that answers with the refreshed board. */
(function () {
  "use strict";
  var refocus = null;

  function board() { return document.getElementById("board"); }

  function stagesInOrder() {
    return Array.prototype.map.call(document.querySelectorAll("#board .lp-column"), function (c) {
      return { code: c.dataset.stage, closed: c.dataset.closed };
    });
  }

  function askLostReason(done) {
    var dialog = document.getElementById("lost-dialog");
    dialog.returnValue = "";
    dialog.addEventListener("close", function handler() {
      dialog.removeEventListener("close", handler);
      done(dialog.returnValue === "ok" ? document.getElementById("lost-dialog-reason").value : null);
    });
    dialog.showModal();
  }

  function move(card, stage, closed) {
    var form = card.querySelector("form.lp-move");
    var send = function (reason) {
      if (reason === null) { refresh(); return; }
      refocus = card.dataset.id;
      htmx.ajax("POST", form.getAttribute("hx-post"), {
        target: "#board", swap: "outerHTML",
        values: {
          stage: stage, version: card.dataset.version, from: "board", lost_reason: reason || "",
          csrfmiddlewaretoken: form.querySelector("[name=csrfmiddlewaretoken]").value
        }
      });
    };
    if (closed === "lost") { askLostReason(send); } else { send(""); }
  }

  function refresh() {
    var qs = board().dataset.qs;
    htmx.ajax("GET", window.location.pathname + "?fragment=board" + (qs ? "&" + qs : ""),
              { target: "#board", swap: "outerHTML" });
  }

  function init() {
    if (!board()) { return; }
    document.querySelectorAll("#board .lp-cards").forEach(function (list) {
      if (list._sortable || !window.Sortable) { return; }
      list._sortable = Sortable.create(list, {
        group: "pipeline", animation: 120, draggable: ".lp-card", filter: "select,button,a",
        preventOnFilter: false,
        onEnd: function (event) {
          if (event.from === event.to) { return; }
          var column = event.to.closest(".lp-column");
          move(event.item, column.dataset.stage, column.dataset.closed);
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
    if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") { return; }
    var all = stagesInOrder();
    var at = all.findIndex(function (s) { return s.code === card.dataset.stage; });
    var next = all[at + (event.key === "ArrowRight" ? 1 : -1)];
    if (!next) { return; }
    event.preventDefault();
    move(card, next.code, next.closed);
  });

  document.addEventListener("change", function (event) {
    if (!event.target.classList.contains("lp-stage-select")) { return; }
    var reason = event.target.form.querySelector(".lp-lost-reason");
    var column = document.querySelector('#board .lp-column[data-stage="' + event.target.value + '"]');
    reason.classList.toggle("d-none", !(column && column.dataset.closed === "lost"));
    reason.required = !!(column && column.dataset.closed === "lost");
  });

  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
  document.addEventListener("htmx:load", function () { if (document.readyState !== "loading") { init(); } });
})();
