/* Staff inbox: live escalation list, live transcript, copy buttons, desktop and sound alerts,
 * and a banner when the page stops updating (signed out, or the server cannot be reached).
 * No dependencies. Everything from the server is inserted with textContent (never as HTML). */
(function () {
  "use strict";

  var POLL_MS = 5000;
  var LEVEL_LABELS = { emergency: "EMERGENCY", urgent: "URGENT", routine: "Routine" };
  var baseTitle = document.title;
  var humanActive = false; // a person touched the page since the last poll (counts for the idle timeout)
  var signedOut = false;
  var offlineSince = null; // the first poll that failed in the current run of failures (Date)
  var failedPolls = 0;
  var titleCount = 0; // urgent/emergency escalations not acknowledged (the escalation list sets it)
  var clockOffset = 0; // server time minus browser time
  var OFFLINE_AFTER = 2; // failed polls in a row before the page says it is not updating

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

  function renderTitle() {
    var prefix = signedOut ? "(signed out) " : offlineSince ? "(offline) " : titleCount ? "(" + titleCount + ") " : "";
    document.title = prefix + baseTitle;
  }

  function clockText(d) {
    return d.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
  }

  function pollFailed() {
    failedPolls += 1;
    if (failedPolls < OFFLINE_AFTER || offlineSince) return;
    offlineSince = new Date();
    var banner = document.getElementById("connection-banner");
    if (banner) {
      banner.textContent = "Connection lost at " + clockText(offlineSince) + ": this page is not updating, so new " +
        "escalations and messages will not appear here. Retrying every " + POLL_MS / 1000 + " seconds.";
      banner.hidden = false;
    }
    renderTitle();
  }

  function pollSucceeded() {
    failedPolls = 0;
    if (!offlineSince) return;
    offlineSince = null;
    var banner = document.getElementById("connection-banner");
    if (banner) banner.hidden = true;
    var live = document.getElementById("live-status");
    if (live) live.textContent = "Reconnected at " + clockText(new Date()) + ".";
    renderTitle();
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
    renderTitle();
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
      // a failed poll (network down, 5xx, 503 in a database outage) is retried; after
      // OFFLINE_AFTER in a row the page says it is not updating
      Promise.resolve().then(fn).then(pollSucceeded, pollFailed).then(function () {
        if (!signedOut) timer = setTimeout(tick, ms);
      });
    }
    timer = setTimeout(tick, ms);
    return function () { clearTimeout(timer); };
  }

  /* ------------------------------------------------------- desktop and sound alerts
   * Opt-in, per browser (localStorage). A desktop notification names the level only, never the
   * patient or the symptom: it may show on a locked screen. Emergencies stay until clicked. */
  var alerts = (function () {
    var KEY_DESKTOP = "aftercare.alerts.desktop";
    var KEY_SOUND = "aftercare.alerts.sound";
    var audio = null;
    var supported = "Notification" in window;
    var constructorRefused = false;

    function stored(key) {
      try { return window.localStorage.getItem(key) === "on"; } catch (e) { return false; }
    }
    function store(key, on) {
      try { window.localStorage.setItem(key, on ? "on" : "off"); } catch (e) { /* private mode: this page only */ }
    }
    function desktopOn() { return supported && Notification.permission === "granted" && stored(KEY_DESKTOP); }

    function unlockAudio() {
      // browsers let a page make sound only after a person interacted with it
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx || !stored(KEY_SOUND)) return;
      try {
        if (!audio) audio = new Ctx();
        if (audio.state === "suspended") audio.resume();
      } catch (e) { audio = null; }
    }

    function beep(level) {
      if (!stored(KEY_SOUND)) return;
      unlockAudio();
      if (!audio) return;
      var tones = level === "emergency" ? 3 : 1;
      for (var i = 0; i < tones; i++) {
        var osc = audio.createOscillator();
        var gain = audio.createGain();
        osc.type = "square";
        osc.frequency.value = level === "emergency" ? 988 : 784;
        gain.gain.value = 0.15;
        osc.connect(gain);
        gain.connect(audio.destination);
        var at = audio.currentTime + i * 0.3;
        osc.start(at);
        osc.stop(at + 0.18);
      }
    }

    function notify(r) {
      if (!desktopOn()) return;
      var label = r.level === "emergency" ? "EMERGENCY" : "URGENT";
      try {
        var n = new Notification(label + " escalation", {
          body: "A patient needs attention. Open the inbox to see who.",
          tag: "escalation-" + r.id + "-" + r.level,
          requireInteraction: r.level === "emergency"
        });
        n.onclick = function () { window.focus(); window.location.href = r.url; n.close(); };
      } catch (e) {
        // Chrome on Android allows notifications only from a service worker: say so, do not pretend
        constructorRefused = true;
        render();
      }
    }

    function render() {
      var button = document.getElementById("desktop-alerts");
      var state = document.getElementById("alert-state");
      var sound = document.getElementById("sound-alerts");
      if (sound) sound.checked = stored(KEY_SOUND);
      if (!button || !state) return;
      if (!supported || constructorRefused) {
        button.hidden = true;
        state.textContent = "This browser cannot show desktop alerts; the on-call text messages still go out.";
      } else if (Notification.permission === "denied") {
        button.hidden = true;
        state.textContent = "Desktop alerts are blocked for this site in the browser's settings.";
      } else if (desktopOn()) {
        button.hidden = false;
        button.textContent = "Turn off desktop alerts";
        state.textContent = "Desktop alerts are on in this browser.";
      } else {
        button.hidden = false;
        button.textContent = "Turn on desktop alerts";
        state.textContent = "Desktop alerts are off.";
      }
    }

    function setup(holder) {
      holder.hidden = false;
      var button = document.getElementById("desktop-alerts");
      var sound = document.getElementById("sound-alerts");
      if (button) {
        button.addEventListener("click", function () {
          if (desktopOn()) { store(KEY_DESKTOP, false); render(); return; }
          Promise.resolve(Notification.requestPermission()).then(function (p) {
            store(KEY_DESKTOP, p === "granted");
            render();
          });
        });
      }
      if (sound) {
        sound.addEventListener("change", function () {
          store(KEY_SOUND, sound.checked);
          if (sound.checked) { unlockAudio(); beep("urgent"); } // the click unlocks sound, and lets them hear it
        });
      }
      ["keydown", "mousedown", "touchstart"].forEach(function (ev) {
        document.addEventListener(ev, unlockAudio, { passive: true, capture: true });
      });
      render();
    }

    return {
      setup: setup,
      raise: function (r) {
        if (r.level !== "urgent" && r.level !== "emergency") return;
        notify(r);
        beep(r.level);
      }
    };
  })();

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
    if (r.unread) {
      c2.appendChild(document.createTextNode(" "));
      c2.appendChild(el("span", { className: "badge badge-unread" }, "new message"));
    }
    if (r.waiting) {
      c2.appendChild(document.createTextNode(" "));
      c2.appendChild(el("span", { className: "badge badge-waiting" }, "waiting for a reply"));
    }
    var sub = el("div", { className: "muted small" }, r.channel_label);
    if (r.language === "es") {
      sub.appendChild(document.createTextNode(" · "));
      sub.appendChild(el("span", { className: "badge badge-lang" }, "ES"));
    }
    sub.appendChild(document.createTextNode((r.takeover ? " · taken over" : "") + (r.recovery_day !== null && r.recovery_day !== undefined ? " · day " + r.recovery_day : "")));
    c2.appendChild(sub);
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
    var standing = {}; // rows that stood out (urgent/emergency, not acknowledged) at the last poll
    tbody.querySelectorAll("tr[data-id]").forEach(function (tr) {
      known[tr.getAttribute("data-id")] = true;
      if (tr.classList.contains("stands-out")) standing[tr.getAttribute("data-id")] = true;
    });

    function apply(data) {
      if (!data) return;
      if (data.server_time) clockOffset = Date.parse(data.server_time) - Date.now();
      var fresh = 0;
      var frag = document.createDocumentFragment();
      var seen = {};
      var nowStanding = {};
      data.escalations.forEach(function (r) {
        var justArrived = !known[r.id];
        if (justArrived) { fresh += 1; arrived[r.id] = true; }
        seen[r.id] = true;
        if (r.stands_out) {
          nowStanding[r.id] = true;
          // new, or re-opened by a new red flag after an acknowledgement: alert once
          if (!standing[r.id]) alerts.raise(r);
        }
        frag.appendChild(escalationRow(r, !!arrived[r.id], justArrived));
      });
      standing = nowStanding;
      tbody.textContent = "";
      tbody.appendChild(frag);
      known = seen;
      empty.hidden = data.escalations.length > 0;
      var serious = data.unacknowledged_serious || 0;
      attention.hidden = serious === 0;
      attentionCount.textContent = String(serious);
      titleCount = serious;
      renderTitle();
      Object.keys(data.views || {}).forEach(function (v) {
        var badge = document.getElementById("view-count-" + v);
        if (badge) badge.textContent = String(data.views[v]);
      });
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
    if (m.text) li.appendChild(el("div", { className: "msg-text" }, m.text));
    (m.photos || []).forEach(function (p) {
      if (p.status === "stored") {
        var a = el("a", { className: "photo", href: "/inbox/media/" + p.id, target: "_blank", rel: "noopener" });
        a.appendChild(el("img", { className: "thumb", src: "/inbox/media/" + p.id, alt: "Photo the patient sent", loading: "lazy" }));
        li.appendChild(a);
      } else {
        li.appendChild(el("div", { className: "muted small photo-note" },
          p.status === "pending" ? "Photo: not available yet (reload in a moment)." : "Photo could not be fetched: reload to see why."));
      }
    });
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

  /* ------------------------------------------------------------ canned replies */
  function setupCanned(holder) {
    var pick = document.getElementById("canned-pick");
    var box = pick && document.querySelector(pick.getAttribute("data-target"));
    if (!pick || !box) return;
    holder.hidden = false;
    pick.addEventListener("change", function () {
      if (!pick.value) return;
      // into an empty box as it is; after what is already written, on a new line
      box.value = box.value.trim() ? box.value.replace(/\s+$/, "") + "\n" + pick.value : pick.value;
      pick.value = "";
      box.focus();
      box.setSelectionRange(box.value.length, box.value.length);
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
    var alertControls = document.getElementById("alert-controls");
    if (alertControls) alerts.setup(alertControls);
    var holder = document.querySelector("[data-transcript-url]");
    if (holder) startTranscriptPolling(holder);
    document.querySelectorAll("[data-copy]").forEach(setupCopy);
    var cannedHolder = document.getElementById("canned-holder");
    if (cannedHolder) setupCanned(cannedHolder);
    var filters = document.getElementById("filters");
    if (filters) {
      filters.querySelectorAll("select").forEach(function (s) {
        s.addEventListener("change", function () { filters.submit(); });
      });
    }
    if (document.querySelector("[data-created]")) setInterval(refreshAges, 30000);
  });
})();
