// Kiosk screens: ages that tick between redraws, a selected card for the keyboard or bump bar,
// a beep when a card arrives, and a banner when the server cannot be reached. htmx does the
// polling and the swapping; no inline scripts anywhere, so the CSP can forbid them.
(function () {
  "use strict";

  const SOUND_KEY = "kiosk.sound";
  const LOST = "Connection lost.";
  const REFUSED = "This screen is not signed in any more.";
  let offset = 0;        // server clock minus this device's clock, in ms
  let known = null;      // card ids on screen, to notice new ones
  let selectedId = null; // the selected card's order id
  let selectedIndex = 0;
  let audio = null;

  function board() { return document.querySelector("[data-board]"); }
  function cards() { return Array.from(document.querySelectorAll("[data-card]")); }

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
    list.forEach(function (card, i) {
      card.classList.toggle("selected", i === selectedIndex);
      if (i === selectedIndex) card.setAttribute("aria-current", "true");
      else card.removeAttribute("aria-current");
    });
  }

  function reselect() {
    // After a redraw keep the same order selected; if it left (bumped), the one now in its place.
    const index = cards().findIndex(function (card) { return card.dataset.card === selectedId; });
    select(index >= 0 ? index : selectedIndex);
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
      case "Enter": if (card) submit('form[data-action="bump"]', card); break;
      case " ": case "Spacebar": if (card) submit('form[data-action="advance"]', card); break;
      case "r": case "R": case "Backspace": submit('form[data-action="recall"]'); break;
      case "s": case "S": setSound(!soundOn()); break;
      default:
        if (!/^[1-9]$/.test(event.key)) return;
        select(Number(event.key) - 1);
    }
    // The key acts on the selected card only, never also on a button that happens to have focus.
    event.preventDefault();
    if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
  });

  document.addEventListener("click", function (event) {
    const card = event.target.closest("[data-card]");
    if (card) select(cards().indexOf(card));
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
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target.matches("[data-board]") && window.htmx) window.htmx.process(event.target);
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
    showSound();
    drawn();
    setInterval(tick, 1000);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
