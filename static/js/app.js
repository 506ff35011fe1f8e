// Small behaviours on top of htmx. No inline scripts anywhere, so the CSP can forbid them.
(function () {
  "use strict";

  // The live refresh redraws the order table; keep the rows a person had selected.
  let kept = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    const target = event.detail.target;
    if (!target || target.id !== "orders-results") return;
    const action = document.querySelector('#batch select[name="action"]');
    kept = {
      ids: Array.from(target.querySelectorAll('input[name="ids"]:checked')).map(function (box) {
        return box.value;
      }),
      action: action ? action.value : null,
    };
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!kept) return;
    kept.ids.forEach(function (id) {
      const box = document.querySelector('#orders-results input[name="ids"][value="' + CSS.escape(id) + '"]');
      if (box) box.checked = true;
    });
    const action = document.querySelector('#batch select[name="action"]');
    if (action && kept.action) action.value = kept.action;
    kept = null;
  });

  // htmx wires up swapped-in forms only when they settle, 20 ms on: a click before then would
  // post the form without htmx and load a whole page. So what was swapped in is wired at once;
  // htmx skips it at settle, or redoes it, harmlessly. (event.target is what came in: the new
  // element after an outerHTML swap, the target with new children after an innerHTML one.)
  document.addEventListener("htmx:afterSwap", function (event) {
    if (window.htmx && event.target.isConnected) window.htmx.process(event.target);
  });

  // A lost connection is said on screen; the next successful poll clears it.
  function banner(show) {
    const el = document.getElementById("offline");
    if (el) el.hidden = !show;
  }
  document.addEventListener("htmx:sendError", function () { banner(true); });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful || (event.detail.xhr && event.detail.xhr.status)) banner(false);
  });
})();
