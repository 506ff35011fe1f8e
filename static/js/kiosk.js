// Kiosk screens: ages that tick between redraws, a selected card for the keyboard or bump bar,
// pages of the cards that fit the screen, a beep when a card arrives, and a banner when the
// server cannot be reached. htmx does the polling and the swapping; no inline scripts anywhere,
// so the CSP can forbid them.
(function () {
  "use strict";

  const SOUND_KEY = "kiosk.sound";
  const ALL_DAY_KEY = "kiosk.allDay";
  const DIGIT_MS = 1500; // a second digit within this long makes a two-digit card number
  const NARROW = window.matchMedia("(max-width: 1200px)"); // as static/css/kiosk.css folds it
  const LOST = "Connection lost.";
  const REFUSED = "This screen is not signed in any more.";
  let offset = 0;        // server clock minus this device's clock, in ms
  let known = null;      // card ids on screen, to notice new ones
  let selectedId = null; // the selected card's order id
  let selectedIndex = 0;
  let audio = null;
  let pages = [];        // [first, end) card indexes of each page
  let page = 0;          // the page shown; kept across redraws, clamped when cards leave
  let typed = "";        // digits typed so far for a card number
  let typedAt = 0;

  function board() { return document.querySelector("[data-board]"); }
  function cards() { return Array.from(document.querySelectorAll("[data-card]")); }
  function area() { return document.querySelector("[data-cards]"); }

  // --- pages: as many cards as fit, measured, never a card cut or hidden without a word -----
  // The stylesheet's grid says how many columns of what width fit; each card, in order, goes to
  // the top of the shortest column, and a page ends at the first card that would reach below
  // the cards' area. So a page holds what really fits at this size, with these cards, in
  // normal or compact mode. A void order's card goes right under the card it cancels (it
  // follows it: app.services.kiosk), and a page never ends between the two.
  let places = [];       // each card's [left, top] on its page

  function isPair(list, i) {
    return i > 0 && list[i].querySelector(".void-link") && list[i - 1].querySelector(".voided-by");
  }

  function paginate() {
    const box = area();
    const list = cards();
    pages = [];
    places = [];
    if (!box) return;
    const pager = board().querySelector("[data-pager]");
    if (pager) pager.hidden = false; // its height is part of the layout being measured
    box.classList.remove("scrolls");
    box.scrollTop = 0;
    const style = getComputedStyle(box);
    const tracks = style.gridTemplateColumns.split(" ").map(parseFloat).filter(function (w) { return w > 0; });
    const gapX = parseFloat(style.columnGap) || 0;
    const gapY = parseFloat(style.rowGap) || 0;
    const top = parseFloat(style.paddingTop) || 0;
    const lefts = [];
    let x = parseFloat(style.paddingLeft) || 0;
    tracks.forEach(function (w) { lefts.push(x); x += w + gapX; });
    if (!lefts.length) lefts.push(x);
    const more = box.querySelector(".more");
    const height = box.clientHeight - top - (parseFloat(style.paddingBottom) || 0) -
      (more ? more.offsetHeight + gapY : 0);
    list.forEach(function (card) {
      card.classList.remove("off-page");
      card.style.width = (tracks[0] || box.clientWidth) + "px";
    });
    const heights = list.map(function (card) { return card.offsetHeight; }); // one layout
    let first = 0;
    while (first < list.length) {
      const tops = lefts.map(function () { return 0; });
      const columns = [];
      let end = first;
      while (end < list.length) {
        let column = tops.indexOf(Math.min.apply(null, tops));
        const under = isPair(list, end) && end > first ? columns[end - first - 1] : -1;
        if (under >= 0 && tops[under] + heights[end] <= height + 1) column = under;
        if (end > first && tops[column] + heights[end] > height + 1) break;
        columns.push(column);
        places[end] = [lefts[column], top + tops[column]];
        tops[column] += heights[end] + gapY;
        end++;
      }
      if (end < list.length && end - first > 1 && isPair(list, end)) end--;
      pages.push([first, end]);
      first = end;
    }
    page = Math.max(0, Math.min(page, pages.length - 1));
    showPage();
  }

  function showPage() {
    const box = area();
    const list = cards();
    const span = pages[page] || [0, list.length];
    list.forEach(function (card, i) {
      card.classList.toggle("off-page", i < span[0] || i >= span[1]);
      card.tabIndex = 0; // a card can be reached with Tab; focusing it selects it
      if (places[i]) {
        card.style.left = places[i][0] + "px";
        card.style.top = places[i][1] + "px";
      }
    });
    if (box) {
      box.scrollTop = 0;
      box.classList.toggle("scrolls", box.scrollHeight > box.clientHeight + 1);
    }
    const b = board();
    if (b) b.dataset.page = String(page + 1);
    showPager(span[0], span[1], list.length);
  }

  function showPager(first, end, total) {
    const pager = board() && board().querySelector("[data-pager]");
    if (!pager) return;
    const sides = [[".page-prev", first], [".page-next", total - end]];
    sides.forEach(function (side) {
      const button = pager.querySelector(side[0]);
      button.hidden = side[1] === 0;
      button.querySelector("[data-page-count]").textContent = "+" + side[1] + " more";
    });
    const where = pager.querySelector("[data-page-of]");
    if (!total) where.textContent = "";
    else if (pages.length < 2) where.textContent = "All " + total + (total === 1 ? " card" : " cards") + " on screen";
    else where.textContent = "Page " + (page + 1) + " of " + pages.length + " · cards " + (first + 1) +
      (end - first > 1 ? "–" + end : "") + " of " + total;
  }

  function pageOf(index) {
    return pages.findIndex(function (span) { return index >= span[0] && index < span[1]; });
  }

  function turn(step) {
    const next = Math.max(0, Math.min(page + step, pages.length - 1));
    if (!pages.length || next === page) return;
    page = next;
    showPage();
    select(pages[page][0]);
  }

  // A card number: 1-9 at once; a second digit soon after makes 10 and up (1 then 4: card 14).
  function typeDigit(digit) {
    const now = Date.now();
    const count = cards().length;
    const joined = typed + digit;
    if (typed && now - typedAt < DIGIT_MS && Number(joined) <= count) {
      select(Number(joined) - 1);
      typed = joined.length < String(count).length ? joined : "";
    } else if (digit !== "0" && Number(digit) <= count) {
      select(Number(digit) - 1);
      typed = count >= 10 ? digit : "";
    } else {
      typed = "";
    }
    typedAt = now;
  }

  // --- the all-day panel: folded to a button on narrow screens, as this device last left it --
  function allDayOpen() { return localStorage.getItem(ALL_DAY_KEY) === "open"; }

  function showAllDay() {
    const panel = document.getElementById("kiosk-all-day");
    const button = document.querySelector("[data-all-day-toggle]");
    if (!panel || !button) return;
    button.hidden = !NARROW.matches;
    button.setAttribute("aria-expanded", allDayOpen() ? "true" : "false");
    panel.classList.toggle("is-open", allDayOpen());
  }

  function toggleAllDay() {
    localStorage.setItem(ALL_DAY_KEY, allDayOpen() ? "closed" : "open");
    showAllDay();
    paginate();
    reselect();
  }

  // --- ages and clock: redrawn every second from timestamps, never from the server ----------
  function formatAge(seconds) {
    const pad = function (n) { return String(n).padStart(2, "0"); };
    if (seconds >= 3600) return Math.floor(seconds / 3600) + "h" + pad(Math.floor(seconds % 3600 / 60));
    return Math.floor(seconds / 60) + ":" + pad(seconds % 60);
  }

  function tick() {
    const b = board();
    const clock = document.querySelector("[data-clock]");
    // The site's time (or the signed-in person's zone), whatever zone this device is set to;
    // the server's clock, as the ages use.
    if (clock) clock.textContent = new Date(Date.now() + offset).toLocaleTimeString([], {
      hour: "2-digit", minute: "2-digit", timeZone: clock.dataset.zone || undefined, timeZoneName: "short" });
    if (!b) return;
    const warn = Number(b.dataset.warn) * 60;
    const late = Number(b.dataset.late) * 60;
    const now = Date.now() + offset;
    cards().forEach(function (card) {
      const seconds = Math.max(0, Math.floor((now - Date.parse(card.dataset.since)) / 1000));
      const age = card.querySelector("[data-age]");
      if (age) age.textContent = formatAge(seconds);
      card.classList.toggle("age-late", seconds >= late);
      card.classList.toggle("age-warn", seconds >= warn && seconds < late);
      card.classList.toggle("age-fresh", seconds < warn);
    });
    startTimes(now);
  }

  // An item of a fired course that is quicker to make than the course's longest waits for its
  // start time ("start in 2:30"); when it comes, the item moves to the top of its card.
  function startTimes(now) {
    document.querySelectorAll("[data-start]").forEach(function (mark) {
      const left = Math.ceil((Date.parse(mark.dataset.start) - now) / 1000);
      if (left > 0) { mark.textContent = "start in " + formatAge(left); return; }
      mark.textContent = "start now";
      mark.removeAttribute("data-start");
      const line = mark.closest(".line");
      if (line) line.classList.remove("waiting");
      const item = mark.closest("li");
      if (item && item.parentNode) item.parentNode.prepend(item);
    });
  }

  // --- selection: what Enter, Space and the number keys act on --------------------------------
  function select(index) {
    const list = cards();
    if (!list.length) { selectedId = null; selectedIndex = 0; return; }
    selectedIndex = Math.max(0, Math.min(index, list.length - 1));
    selectedId = list[selectedIndex].dataset.card;
    const onPage = pageOf(selectedIndex);
    if (onPage >= 0 && onPage !== page) { page = onPage; showPage(); }
    list.forEach(function (card, i) {
      card.classList.toggle("selected", i === selectedIndex);
      if (i === selectedIndex) card.setAttribute("aria-current", "true");
      else card.removeAttribute("aria-current");
    });
  }

  function reselect() {
    // After a redraw keep the page, and the same order selected if it is still on that page;
    // else the card now in its place there (it was bumped, or cards before it left).
    const list = cards();
    let index = list.findIndex(function (card) { return card.dataset.card === selectedId; });
    const span = pages[page] || [0, list.length];
    if (index < span[0] || index >= span[1]) index = Math.max(span[0], Math.min(selectedIndex, span[1] - 1));
    select(index);
  }

  function submit(selector, within) {
    const form = (within || document).querySelector(selector);
    if (!form) return;
    const button = form.querySelector("button");
    if (button && button.disabled) return;
    form.requestSubmit();
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || !board()) return;
    const card = cards()[selectedIndex];
    switch (event.key) {
      case "ArrowRight": case "ArrowDown": select(selectedIndex + 1); break;
      case "ArrowLeft": case "ArrowUp": select(selectedIndex - 1); break;
      case "PageDown": turn(1); break;
      case "PageUp": turn(-1); break;
      case "a": case "A": if (!document.querySelector("[data-all-day-toggle]")) return; toggleAllDay(); break;
      case "Enter": if (card) submit('form[data-action="bump"]', card); break;
      case " ": case "Spacebar": if (card) submit('form[data-action="advance"]', card); break;
      case "r": case "R": case "Backspace": submit('form[data-action="recall"]'); break;
      case "s": case "S": setSound(!soundOn()); break;
      default:
        if (!/^[0-9]$/.test(event.key)) return;
        typeDigit(event.key);
    }
    // The key acts on the selected card only, never also on a button that happens to have focus.
    event.preventDefault();
    if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
  });

  document.addEventListener("click", function (event) {
    const card = event.target.closest("[data-card]");
    if (card) select(cards().indexOf(card));
    const step = event.target.closest("[data-page-step]");
    if (step) turn(Number(step.dataset.pageStep));
    if (event.target.closest("[data-all-day-toggle]")) toggleAllDay();
  });

  document.addEventListener("focusin", function (event) {
    const card = event.target.closest && event.target.closest("[data-card]");
    if (card) select(cards().indexOf(card));
  });

  let resizing = 0;
  window.addEventListener("resize", function () {
    cancelAnimationFrame(resizing);
    resizing = requestAnimationFrame(function () { showAllDay(); paginate(); reselect(); });
  });

  // --- sound: a short beep made by WebAudio, switchable, remembered on this device ----------
  function soundOn() { return localStorage.getItem(SOUND_KEY) !== "off"; }

  function setSound(on) {
    localStorage.setItem(SOUND_KEY, on ? "on" : "off");
    showSound();
    if (on) beep();
  }

  function showSound() {
    document.querySelectorAll("[data-sound-switch]").forEach(function (button) {
      button.hidden = false;
      button.setAttribute("aria-checked", soundOn() ? "true" : "false");
      button.querySelector("b").textContent = soundOn() ? "on" : "off";
    });
  }

  function wakeAudio() {
    // Browsers start audio only after a touch or key; the first one unlocks it.
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!audio && Context) audio = new Context();
    if (audio && audio.state === "suspended") audio.resume();
  }

  function beep() {
    document.body.dataset.beeps = String(Number(document.body.dataset.beeps || 0) + 1);
    if (!soundOn()) return;
    wakeAudio();
    if (!audio) return;
    [0, 0.25].forEach(function (delay) {
      const start = audio.currentTime + delay;
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.type = "square";
      oscillator.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.25, start + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.18);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(start);
      oscillator.stop(start + 0.2);
    });
  }

  document.addEventListener("pointerdown", wakeAudio, { once: true });
  document.addEventListener("keydown", wakeAudio, { once: true });
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-sound-switch]")) setSound(!soundOn());
  });

  // --- each (re)draw of the board ------------------------------------------------------------
  function drawn() {
    const b = board();
    if (!b) return;
    offset = Date.parse(b.dataset.now) - Date.now();
    const ids = cards().map(function (card) { return card.dataset.card; });
    if (known !== null && ids.some(function (id) { return !known.has(id); })) beep();
    known = new Set(ids);
    showAllDay();
    paginate();
    reselect();
    tick();
  }

  // --- connection: any answer from the server clears the banner; none within 3 s shows it --
  function banner(show, reason) {
    const el = document.getElementById("offline");
    if (!el) return;
    if (reason) el.querySelector("[data-reason]").textContent = reason;
    el.hidden = !show;
    document.body.classList.toggle("is-offline", show);
  }

  document.addEventListener("htmx:sendError", function () { banner(true, LOST); });
  document.addEventListener("htmx:timeout", function () { banner(true, LOST); });
  document.addEventListener("htmx:afterRequest", function (event) {
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status === 0) return; // no answer: sendError or timeout said so already
    if (status === 401 || status === 403) banner(true, REFUSED);
    else if (status >= 500) banner(true, LOST);
    else banner(false);
  });
  // After an outerHTML swap the event comes from the new element, so event.target is it.
  // htmx wires up swapped-in forms only when they settle, 20 ms on: a key or a tap before then
  // would post the form without htmx and reload the whole screen, losing the next key. So the
  // board is wired at once; htmx skips it at settle, or redoes it, harmlessly.
  // The new cards are paged at once too, so a redraw never flashes every card; htmx puts back
  // the attributes the answer came with when it settles, and drawn() pages them again then.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.target.matches("[data-board]")) return;
    if (window.htmx) window.htmx.process(event.target);
    showAllDay();
    paginate();
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    const target = event.target;
    if (target.matches("[data-board]")) drawn();
    if (target.id === "messages") {
      // Messages (a refused tap) fade by themselves: nobody at a kiosk will close them.
      const shown = target.innerHTML;
      setTimeout(function () {
        if (target.innerHTML === shown) target.innerHTML = "";
      }, 8000);
    }
  });

  function start() {
    if (board()) document.documentElement.classList.add("paged");
    showSound();
    drawn();
    setInterval(tick, 1000);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
