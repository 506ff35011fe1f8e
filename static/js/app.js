// Small behaviours on top of htmx. No inline scripts anywhere, so the CSP can forbid them.
(function () {
  "use strict";

  // The live refresh redraws the order table; keep the rows a person had selected. The order
  // page's refresh keeps the "More" menus a person had open.
  let kept = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    const target = event.detail.target;
    if (!target) return;
    if (target.id === "orders-results") {
      const action = document.querySelector('#batch select[name="action"]');
      kept = {
        ids: Array.from(target.querySelectorAll('input[name="ids"]:checked')).map(function (box) {
          return box.value;
        }),
        action: action ? action.value : null,
      };
    } else if (target.id === "order-detail") {
      kept = { open: Array.from(target.querySelectorAll("details[data-keep-open][open]")).map(function (menu) {
        return menu.id;
      }) };
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!kept) return;
    (kept.ids || []).forEach(function (id) {
      const box = document.querySelector('#orders-results input[name="ids"][value="' + CSS.escape(id) + '"]');
      if (box) box.checked = true;
    });
    const action = document.querySelector('#batch select[name="action"]');
    if (action && kept.action) action.value = kept.action;
    (kept.open || []).forEach(function (id) {
      const menu = document.getElementById(id);
      if (menu) menu.open = true;
    });
    kept = null;
    syncSelectAll();
  });

  // htmx wires up swapped-in forms only when they settle, 20 ms on: a click before then would
  // post the form without htmx and load a whole page. So what was swapped in is wired at once;
  // htmx skips it at settle, or redoes it, harmlessly. (event.target is what came in: the new
  // element after an outerHTML swap, the target with new children after an innerHTML one.)
  document.addEventListener("htmx:afterSwap", function (event) {
    if (window.htmx && event.target.isConnected) window.htmx.process(event.target);
    revealMessage(event.target);
    enhance(event.target);
  });

  // A refusal or a report swapped in while the page is scrolled would be drawn out of sight:
  // bring it into view (the order page draws it beside the control that was pressed).
  function revealMessage(swapped) {
    if (!swapped || !swapped.isConnected) return;
    const message = swapped.matches('[role="alert"], .batch-report, .confirm')
      ? swapped : swapped.querySelector('[role="alert"], .batch-report, .confirm');
    if (!message) return;
    const box = message.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) {
      message.scrollIntoView({ block: "center", behavior: "smooth" });
    }
  }

  // The select-all box of the order list: only a script can tick every box, so it is drawn
  // hidden and shown here.
  function syncSelectAll() {
    const all = document.querySelector("[data-select-all]");
    if (!all) return;
    const boxes = Array.from(document.querySelectorAll('#orders-results input[name="ids"]'));
    const ticked = boxes.filter(function (box) { return box.checked; }).length;
    all.checked = boxes.length > 0 && ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
  }
  document.addEventListener("change", function (event) {
    const box = event.target;
    if (box.matches("[data-select-all]")) {
      document.querySelectorAll('#orders-results input[name="ids"]').forEach(function (row) {
        row.checked = box.checked;
      });
    } else if (box.matches('#orders-results input[name="ids"]')) {
      syncSelectAll();
    }
  });

  // Copy buttons beside one-time secrets (a new API key, a kiosk link).
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    // Plain HTTP on a network address has no clipboard API: select and copy the old way.
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "sr";
    document.body.appendChild(area);
    area.select();
    const done = document.execCommand("copy");
    area.remove();
    return done ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-copy]");
    if (button) {
      const source = document.querySelector(button.dataset.copy);
      copyText(source.textContent.trim()).then(function () {
        button.textContent = "Copied";
      }, function () {
        button.textContent = "Select and copy it by hand";
      });
      return;
    }
    // "Keep them" on the list's cancel question: the question goes, the selection stays.
    const dismiss = event.target.closest("[data-dismiss]");
    if (dismiss) {
      const region = document.querySelector(dismiss.dataset.dismiss);
      if (region) {
        event.preventDefault();
        region.replaceChildren();
      }
      return;
    }
    // A click anywhere else closes the open menus (the nav's, and "More" on the order page).
    document.querySelectorAll("details[data-menu][open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.open = false;
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details[data-menu][open]").forEach(function (menu) {
      menu.open = false;
      if (menu.contains(document.activeElement)) menu.querySelector("summary").focus();
    });
  });

  function enhance(root) {
    (root || document).querySelectorAll("[data-copy][hidden], [data-select-all][hidden]").forEach(
      function (control) { control.hidden = false; });
    syncSelectAll();
  }
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });

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
