/* Staff inbox: live escalation list, live transcript, copy buttons. No dependencies.
 * Everything from the server is inserted with textContent (never as HTML). */
(function () {
  "use strict";

  var POLL_MS = 5000;
  var LEVEL_LABELS = { emergency: "EMERGENCY", urgent: "URGENT", routine: "Routine" };
  var baseTitle = document.title;
  var humanActive = false; // a person touched the page since the last poll (counts for the idle timeout)
  var signedOut = false;
  var clockOffset = 0; // server time minus browser time

  ["keydown", "mousedown", "touchstart", "wheel"].forEach(function (ev) {
    document.addEventListener(ev, function () { humanActive = true; }, { passive: true, capture: true });
  });
  var lastMove = 0;
  document.addEventListener("mousemove", function () {
    var now = Date.now();
    if (now - lastMove > 10000) { lastMove = now; humanActive = true; }
  }, { passive: true });

  function withParam(url, key, value) {
    return url + (url.indexOf("?") === -1 ? "?" : "&") + encodeURIComponent(key) + "=" + encodeURIComponent(value);
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        if (k === "className") node.className = attrs[k];
        else node.setAttribute(k, attrs[k]);
      });
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function ageText(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) return "just now";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min";
    var hours = Math.floor(minutes / 60);
    if (hours < 48) return hours < 6 ? hours + " h " + (minutes % 60) + " min" : hours + " h";
    return Math.floor(hours / 24) + " days";
  }

  function refreshAges() {
    var now = Date.now() + clockOffset;
    document.querySelectorAll("[data-created]").forEach(function (node) {
      var t = Date.parse(node.getAttribute("data-created"));
      if (!isNaN(t)) node.textContent = ageText((now - t) / 1000);
    });
  }

  function showSignedOut() {
    if (signedOut) return;
    signedOut = true;
    var banner = document.getElementById("session-banner");
    if (banner) {
      banner.textContent = "";
      banner.appendChild(document.createTextNode(
        "You are signed out (30 minutes without activity, or signed out elsewhere). This page no longer updates. "));
      var link = el("a", { href: "/inbox/login?next=" + encodeURIComponent(location.pathname + location.search) }, "Sign in again");
      banner.appendChild(link);
      banner.hidden = false;
    }
    document.title = "(signed out) " + baseTitle;
  }

  function getJson(url) {
    var target = humanActive ? withParam(url, "active", "1") : url;
    humanActive = false;
    return fetch(target, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (res) {
        if (res.status === 401) { showSignedOut(); return null; }
        if (!res.ok) throw new Error("HTTP " + res.status);
        return res.json();
      });
  }

  function every(ms, fn) {
    var timer = null;
    function tick() {
      if (signedOut) return;
      Promise.resolve().then(fn).catch(function () { /* keep trying */ }).then(function () {
        if (!signedOut) timer = setTimeout(tick, ms);
      });
    }
    timer = setTimeout(tick, ms);
    return function () { clearTimeout(timer); };
  }

  /* ------------------------------------------------------------ escalation list */
  function escalationRow(r, isNew, justArrived) {
    var tr = el("tr", {
      className: "esc-row level-" + r.level + (r.stands_out ? " stands-out" : "") + (isNew ? " is-new" : "") + (justArrived ? " just-arrived" : ""),
      "data-id": r.id
    });
    var c1 = el("td", { className: "c-level" });
    c1.appendChild(el("span", { className: "badge badge-" + r.level }, r.level_label || LEVEL_LABELS[r.level] || r.level));
    if (r.stands_out) {
      c1.appendChild(document.createTextNode(" "));
      c1.appendChild(el("span", { className: "flag" }, "Needs acknowledging"));
    }
    var c2 = el("td", { className: "c-patient" });
    c2.appendChild(el("a", { href: r.url }, r.patient_name));
    var sub = r.channel_label + (r.takeover ? " · taken over" : "") + (r.recovery_day !== null && r.recovery_day !== undefined ? " · day " + r.recovery_day : "");
    c2.appendChild(el("div", { className: "muted small" }, sub));
    var c3 = el("td", { className: "c-reason" }, r.reason);
    var c4 = el("td", { className: "c-age" });
    c4.appendChild(el("span", { className: "badge badge-age" + (r.stale ? " stale" : ""), "data-created": r.created_at }, r.age));
    c4.appendChild(el("div", { className: "muted small" }, r.created_local));
    var c5 = el("td", { className: "c-status" });
    c5.appendChild(el("span", { className: "badge status-" + r.status }, r.status_label));
    var c6 = el("td", { className: "c-assignee" }, r.assignee_name || "Unassigned");
    [c1, c2, c3, c4, c5, c6].forEach(function (c) { tr.appendChild(c); });
    return tr;
  }

  function updateCount(countId, noteId, value) {
    var badge = document.getElementById(countId);
    var note = document.getElementById(noteId);
    if (!badge || typeof value !== "number") return;
    badge.textContent = String(value);
    if (countId === "problem-count") badge.classList.toggle("badge-problem", value > 0);
    if (note) note.hidden = String(value) === badge.getAttribute("data-initial");
  }

  function startInboxPolling(table) {
    var url = table.getAttribute("data-poll-url");
    var tbody = document.getElementById("escalation-rows");
    var empty = document.getElementById("no-escalations");
    var attention = document.getElementById("attention");
    var attentionCount = document.getElementById("attention-count");
    var live = document.getElementById("live-status");
    var known = {};
    var arrived = {}; // came in while this page was open: marked NEW until the page is reloaded
    tbody.querySelectorAll("tr[data-id]").forEach(function (tr) { known[tr.getAttribute("data-id")] = true; });

    function apply(data) {
      if (!data) return;
      if (data.server_time) clockOffset = Date.parse(data.server_time) - Date.now();
      var fresh = 0;
      var frag = document.createDocumentFragment();
      var seen = {};
      data.escalations.forEach(function (r) {
        var justArrived = !known[r.id];
        if (justArrived) { fresh += 1; arrived[r.id] = true; }
        seen[r.id] = true;
        frag.appendChild(escalationRow(r, !!arrived[r.id], justArrived));
      });
      tbody.textContent = "";
      tbody.appendChild(frag);
      known = seen;
      empty.hidden = data.escalations.length > 0;
      var serious = data.unacknowledged_serious || 0;
      attention.hidden = serious === 0;
      attentionCount.textContent = String(serious);
      document.title = (serious ? "(" + serious + ") " : "") + baseTitle;
      updateCount("takeover-count", "takeovers-changed", data.takeovers);
      updateCount("problem-count", "problems-changed", data.delivery_problems);
      var stamp = new Date().toLocaleTimeString([], { hour: "numeric", minute: "2-digit", second: "2-digit" });
      live.textContent = (fresh ? fresh + " new escalation" + (fresh > 1 ? "s" : "") + ". " : "") + "Updated " + stamp + ".";
    }

    every(POLL_MS, function () { return getJson(url).then(apply); });
  }

  /* ---------------------------------------------------------------- transcript */
  function messageItem(m) {
    var li = el("li", { className: "msg msg-" + m.author, "data-id": m.id });
    var meta = el("div", { className: "msg-meta" });
    meta.appendChild(el("strong", null, m.author_label));
    meta.appendChild(el("span", { className: "muted" }, (m.channel === "sms" ? "SMS" : "Web chat") + " · " + m.created_local));
    if (m.status === "not_sent") meta.appendChild(el("span", { className: "badge delivery-failed" }, "not sent"));
    li.appendChild(meta);
    li.appendChild(el("div", { className: "msg-text" }, m.text));
    return li;
  }

  function startTranscriptPolling(holder) {
    var url = holder.getAttribute("data-transcript-url");
    var lastId = holder.getAttribute("data-last-id") || "";
    var list = document.getElementById("transcript");
    if (!list) return;
    list.scrollTop = list.scrollHeight;
    every(POLL_MS, function () {
      var target = lastId ? withParam(url, "after", lastId) : url;
      return getJson(target).then(function (data) {
        if (!data || !data.messages.length) return;
        var emptyItem = list.querySelector(".empty");
        if (emptyItem) emptyItem.remove();
        data.messages.forEach(function (m) {
          if (!list.querySelector('[data-id="' + m.id + '"]')) list.appendChild(messageItem(m));
          lastId = m.id;
        });
        list.scrollTop = list.scrollHeight;
      });
    });
  }

  /* --------------------------------------------------------------- copy button */
  function setupCopy(button) {
    button.addEventListener("click", function () {
      var input = document.querySelector(button.getAttribute("data-copy"));
      var status = button.parentNode.querySelector(".copy-status");
      if (!input) return;
      function done(ok) { if (status) status.textContent = ok ? "Copied." : "Select the link and copy it."; }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(function () { done(true); }, function () { fallback(); });
      } else {
        fallback();
      }
      function fallback() {
        input.focus();
        input.select();
        var ok = false;
        try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
        done(ok);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var table = document.querySelector("[data-poll-url]");
    if (table) startInboxPolling(table);
    var holder = document.querySelector("[data-transcript-url]");
    if (holder) startTranscriptPolling(holder);
    document.querySelectorAll("[data-copy]").forEach(setupCopy);
    var filters = document.getElementById("filters");
    if (filters) {
      filters.querySelectorAll("select").forEach(function (s) {
        s.addEventListener("change", function () { filters.submit(); });
      });
    }
    if (document.querySelector("[data-created]")) setInterval(refreshAges, 30000);
  });
})();
