// Ready boards: a short highlight and an optional chime when a number turns Ready, a clock,
// and a banner when the server cannot be reached. htmx does the polling and the swapping; no
// inline scripts anywhere, so the CSP can forbid them.
(function () {
  "use strict";

  const LOST = "Connection lost.";
  let offset = 0;     // server clock minus this device's clock, in ms
  let known = null;   // numbers in the Ready column at the last drawing
  let audio = null;

  function board() { return document.querySelector("[data-board]"); }
  function readyNumbers() { return Array.from(document.querySelectorAll('[data-column="ready"] [data-number]')); }

  // --- the highlight: from when the server says the order became Ready, so a redraw or a
  // reload in between keeps it for exactly its seconds ----------------------------------------
  function tick() {
    const b = board();
    const clock = document.querySelector("[data-clock]");
    if (clock) clock.textContent = new Date(Date.now() + offset).toLocaleTimeString([], {
      hour: "2-digit", minute: "2-digit", timeZone: clock.dataset.zone || undefined });
    if (!b) return;
    const window_ = Number(b.dataset.highlight || 0) * 1000;
    const now = Date.now() + offset;
    readyNumbers().forEach(function (el) {
      const since = Date.parse(el.dataset.readyAt);
      el.classList.toggle("just-ready", !isNaN(since) && now - since < window_);
    });
  }

  // --- the chime: a two-note ding made by WebAudio -------------------------------------------
  function wakeAudio() {
    // Browsers start audio only after a touch or key, unless started to allow it (see the
    // README: unattended screens run Chromium with --autoplay-policy=no-user-gesture-required).
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!audio && Context) audio = new Context();
    if (audio && audio.state === "suspended") audio.resume();
  }

  function chime() {
    document.body.dataset.chimes = String(Number(document.body.dataset.chimes || 0) + 1);
    wakeAudio();
    if (!audio) return;
    [[0, 988], [0.28, 1319]].forEach(function (note) {
      const start = audio.currentTime + note[0];
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.type = "sine";
      oscillator.frequency.value = note[1];
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.4, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.9);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(start);
      oscillator.stop(start + 1);
    });
  }

  document.addEventListener("pointerdown", wakeAudio, { once: true });
  document.addEventListener("keydown", wakeAudio, { once: true });

  // --- each (re)draw ---------------------------------------------------------------------------
  function drawn() {
    const b = board();
    if (!b) return;
    offset = Date.parse(b.dataset.now) - Date.now();
    const numbers = readyNumbers().map(function (el) { return el.dataset.number; });
    const arrived = known !== null && numbers.some(function (n) { return !known.has(n); });
    if (arrived && b.dataset.chime === "on") chime();
    known = new Set(numbers);
    tick();
  }

  // --- connection: any answer clears the banner; none within 3 s shows it --------------------
  function banner(show) {
    const el = document.getElementById("offline");
    if (!el) return;
    el.querySelector("[data-reason]").textContent = LOST;
    el.hidden = !show;
    document.body.classList.toggle("is-offline", show);
  }

  document.addEventListener("htmx:sendError", function () { banner(true); });
  document.addEventListener("htmx:timeout", function () { banner(true); });
  document.addEventListener("htmx:afterRequest", function (event) {
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status === 0) return;
    if (status === 403) {
      // The board's link was revoked: the numbers must not stay up. The page itself now says
      // why, and polls no more.
      window.location.reload();
      return;
    }
    banner(status >= 500);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target.matches("[data-board]")) drawn();
    if (event.target.id === "messages") {
      const shown = event.target.innerHTML;
      setTimeout(function () { if (event.target.innerHTML === shown) event.target.innerHTML = ""; }, 8000);
    }
  });

  function start() {
    drawn();
    setInterval(tick, 1000);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
