// cordon approval inbox: keeps the lists current while the page is open.
// The page works without this script (reload to see new questions); the
// script only swaps in the server's freshly rendered lists when the server
// says they changed, and counts down the time left to answer.
"use strict";

(function () {
  const live = document.getElementById("live");
  const lists = document.getElementById("lists");

  function setLive(state, text) {
    live.dataset.state = state;
    live.textContent = text;
  }

  // Do not replace the lists while the human is typing a reason: the
  // text would be lost. Refresh once they leave the field.
  let stale = false;
  function typing() {
    const el = document.activeElement;
    return el && el.tagName === "INPUT" && el.type === "text" && lists.contains(el);
  }
  lists.addEventListener("focusout", function () {
    if (stale) {
      setTimeout(refresh, 0);
    }
  });

  async function refresh() {
    if (typing()) {
      stale = true;
      return;
    }
    stale = false;
    try {
      const r = await fetch("/list", { credentials: "same-origin", cache: "no-store" });
      if (r.ok) {
        lists.innerHTML = await r.text();
        tick();
      } else if (r.status === 401) {
        setLive("gone", "logged out: open the URL cordon approve printed");
      }
    } catch (e) {
      setLive("gone", "the inbox does not answer");
    }
  }

  function tick() {
    const now = Date.now();
    for (const el of document.querySelectorAll(".countdown[data-deadline]")) {
      const left = Math.max(0, Math.round((Number(el.dataset.deadline) - now) / 1000));
      const m = Math.floor(left / 60);
      const s = String(left % 60).padStart(2, "0");
      el.textContent = left > 0 ? `denied automatically in ${m}:${s}` : "timed out: denied";
    }
  }
  setInterval(tick, 1000);
  tick();

  const events = new EventSource("/events");
  events.addEventListener("open", function () {
    setLive("live", "live");
    refresh();
  });
  events.addEventListener("changed", refresh);
  events.addEventListener("error", function () {
    setLive("gone", "reconnecting…");
  });
})();
