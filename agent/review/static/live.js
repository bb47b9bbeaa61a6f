// Live updates for the queue and the item page: SLA timers count down, and changes made
// anywhere (a sweep storing and triaging items, another reviewer acting, a reply sent)
// arrive as server-sent events from /api/events (agent/review/live.py) and show without a
// reload. Events carry ids, statuses and names, never message text; nothing here builds
// HTML (textContent only). Without this script the pages are the same, just not live.
(function () {
  "use strict";

  var main = document.querySelector("main[data-me]");
  if (!main) return;
  var me = main.getAttribute("data-me");
  // The server's clock at render time against this browser's: timers use the server's.
  var skew = Number(main.getAttribute("data-now")) - Date.now();
  if (!isFinite(skew)) skew = 0;
  var DUE_SOON_MS = 30 * 60 * 1000; // agent.review.queries.DUE_SOON
  var TICK_MS = 15 * 1000;

  // -- SLA timers ---------------------------------------------------------------------

  function span(ms) {
    // As agent.review.queries.format_span writes it: "12m", "1h 05m", "3d 4h".
    var minutes = Math.floor(Math.abs(ms) / 60000);
    if (minutes >= 48 * 60) return Math.floor(minutes / 1440) + "d " + Math.floor((minutes % 1440) / 60) + "h";
    if (minutes >= 60) {
      var m = minutes % 60;
      return Math.floor(minutes / 60) + "h " + (m < 10 ? "0" : "") + m + "m";
    }
    return minutes + "m";
  }

  function tick() {
    var now = Date.now() + skew;
    var timers = document.querySelectorAll("[data-due]");
    for (var i = 0; i < timers.length; i++) {
      var el = timers[i];
      var left = Number(el.getAttribute("data-due")) - now;
      if (!isFinite(left)) continue;
      var seconds = Math.trunc(left / 1000);
      el.textContent = span(left) + (seconds > 0 ? " left" : " overdue");
      var state = seconds <= 0 ? "breached" : left <= DUE_SOON_MS ? "due_soon" : "ok";
      el.classList.remove("breached", "due_soon", "ok");
      el.classList.add(state);
    }
  }

  tick();
  window.setInterval(tick, TICK_MS);

  // -- the stream ---------------------------------------------------------------------

  if (typeof window.EventSource !== "function") return;
  var page = document.querySelector(".item-page[data-item-id]");
  var itemId = page ? Number(page.getAttribute("data-item-id")) : null;
  var table = document.querySelector("table.queue");
  if (!page && !table) return;

  var byId = function (id) { return document.getElementById(id); };
  var liveState = byId("live-state");
  var WORDS = {
    collected: "collected", triaged: "triaged", approve: "approved", edit: "edited",
    reject: "rejected", escalate: "escalated", resolve: "resolved", assign: "assigned",
    not_spam: "marked not spam", takeover: "taken over", handback: "handed back",
    correct: "corrected", sent: "reply sent",
  }; // prettier-ignore

  function said(data) {
    var word = WORDS[data.what] || String(data.what).replace(/_/g, " ");
    return data.by && data.what !== "sent" ? word + " by " + data.by : word;
  }

  function showState(text) {
    if (!liveState) return;
    liveState.textContent = text;
    liveState.hidden = !text;
  }

  var url = "/api/events" + (itemId ? "?item=" + itemId : "");
  var source = new EventSource(url);
  source.addEventListener("hello", function () { showState("live"); });
  source.addEventListener("error", function () {
    // The browser reconnects by itself (after the stream's retry time).
    showState(source.readyState === EventSource.CLOSED ? "not live: reload" : "reconnecting…");
  });
  source.addEventListener("bye", function () {
    source.close();
    showState("signed out");
  });

  function parse(ev) {
    try {
      return JSON.parse(ev.data);
    } catch (e) {
      return null;
    }
  }

  // -- the queue ----------------------------------------------------------------------

  if (table) {
    var banner = byId("live-banner");
    var bannerText = byId("live-text");
    var statuses = (table.getAttribute("data-statuses") || "").split(",").filter(Boolean);
    var onlyWorkspace = table.getAttribute("data-workspace");
    var arrived = {};
    var arrivedCount = 0;

    var showBanner = function (text) {
      if (!banner || !bannerText) return;
      bannerText.textContent = text;
      banner.hidden = false;
    };

    source.addEventListener("item", function (ev) {
      var data = parse(ev);
      if (!data) return;
      var row = table.querySelector('tr[data-item="' + Number(data.item) + '"]');
      if (row) {
        var state = row.querySelector(".state-text");
        if (state && data.what !== "collected") state.textContent = said(data);
        row.classList.add("live-changed");
        var gone = statuses.length > 0 && statuses.indexOf(data.status) < 0;
        row.classList.toggle("live-gone", gone);
        row.setAttribute("data-status", data.status);
        return;
      }
      if (onlyWorkspace && data.workspace !== onlyWorkspace) return;
      var fits = statuses.length === 0 || statuses.indexOf(data.status) >= 0;
      if (!fits || arrived[data.item]) return;
      arrived[data.item] = true;
      arrivedCount += 1;
      showBanner(
        arrivedCount + (arrivedCount === 1 ? " item" : " items") + " arrived or changed since this page loaded."
      );
    });
    source.addEventListener("reset", function () {
      source.close();
      showState("not live: reload");
      showBanner("Many items changed at once.");
    });
  }

  // -- the item page ------------------------------------------------------------------

  if (page) {
    var note = byId("live-note");
    var noteText = byId("live-text");
    var also = byId("also-viewing");
    var viewers = byId("viewers");

    source.addEventListener("item", function (ev) {
      var data = parse(ev);
      if (!data || Number(data.item) !== itemId || data.what === "collected") return;
      if (data.by === me && data.what !== "sent") return; // this person's own action
      if (!note || !noteText) return;
      noteText.textContent = "Changed just now: " + said(data) + " (now " + data.status + ").";
      note.hidden = false;
    });
    source.addEventListener("presence", function (ev) {
      var data = parse(ev);
      if (!data || Number(data.item) !== itemId || !also || !viewers) return;
      var names = (data.viewing || []).map(String);
      viewers.textContent = names.join(", ");
      also.hidden = names.length === 0;
    });
    source.addEventListener("reset", function () {
      source.close();
      showState("not live: reload");
    });
  }
})();
