/* SMS simulator: development-only page that plays a patient's phone against the real webhook. */
(function () {
  "use strict";
  var patientSel = document.getElementById("patient");
  var phoneInput = document.getElementById("phone");
  var mediaInput = document.getElementById("media");
  var log = document.getElementById("log");
  var title = document.getElementById("title");
  var optout = document.getElementById("optout");
  var statusEl = document.getElementById("status");
  var form = document.getElementById("compose");
  var textEl = document.getElementById("text");
  var sendBtn = document.getElementById("send");
  var resendBtn = document.getElementById("resend");
  var lastSid = null;
  var lastPayload = null;
  var lastRendered = "";
  var timer = null;

  function currentPhone() {
    return (phoneInput.value || patientSel.value || "").trim();
  }

  function setStatus(text) { statusEl.textContent = text || ""; }

  function render(data) {
    var key = JSON.stringify(data.messages) + data.opted_out;
    if (key === lastRendered) { return; }
    lastRendered = key;
    optout.hidden = !data.opted_out;
    log.textContent = "";
    if (!data.messages.length) {
      var p = document.createElement("p");
      p.className = "empty";
      p.textContent = "No messages yet.";
      log.appendChild(p);
      return;
    }
    data.messages.forEach(function (m) {
      var div = document.createElement("div");
      div.className = "bubble " + (m.direction === "in" ? "in" : "out");
      var text = m.text || (m.media && m.media.length ? "" : "(empty message)");
      div.appendChild(document.createTextNode(text));
      if (m.media && m.media.length) {
        div.appendChild(document.createTextNode((text ? "\n" : "") + "[" + m.media.length + " photo(s)]"));
      }
      var meta = document.createElement("span");
      meta.className = "meta";
      var bits = [new Date(m.at).toLocaleTimeString(), m.status];
      if (m.purpose && m.purpose !== "reply") { bits.push(m.purpose); }
      if (m.error) { bits.push(m.error); }
      meta.textContent = bits.join(" - ");
      if (["failed", "dead", "undelivered", "suppressed"].indexOf(m.status) >= 0) { div.classList.add("problem"); }
      div.appendChild(meta);
      log.appendChild(div);
    });
    log.scrollTop = log.scrollHeight;
  }

  function refresh() {
    var phone = currentPhone();
    title.textContent = phone || "No number";
    if (!phone) { return Promise.resolve(); }
    return fetch("/simulator/api/messages?phone=" + encodeURIComponent(phone))
      .then(function (r) { return r.ok ? r.json() : r.json().then(function (e) { throw new Error(e.detail); }); })
      .then(render)
      .catch(function (e) { setStatus(String(e.message || e)); });
  }

  function poll() {
    if (timer) { clearInterval(timer); }
    lastRendered = "";
    refresh();
    timer = setInterval(refresh, 1000);
  }

  function send(text, sid) {
    var phone = currentPhone();
    if (!phone) { setStatus("Pick a patient or type a number first."); return; }
    var media = mediaInput.value.trim();
    var payload = { phone: phone, text: text, media_urls: media ? [media] : [] };
    if (sid && lastPayload) { payload = lastPayload; payload.message_sid = sid; }
    sendBtn.disabled = true;
    setStatus("Sending...");
    var started = performance.now();
    fetch("/simulator/api/send", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload)
    })
      .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
      .then(function (res) {
        if (!res.ok) { throw new Error(typeof res.body.detail === "string" ? res.body.detail : JSON.stringify(res.body.detail)); }
        lastSid = res.body.message_sid;
        lastPayload = payload;
        resendBtn.disabled = false;
        setStatus("Webhook answered " + res.body.status_code + " in " + Math.round(performance.now() - started) + " ms" +
          (res.body.twiml.indexOf("<Message>") >= 0 ? " (reply in TwiML)" : ""));
        textEl.value = "";
        mediaInput.value = "";
        refresh();
      })
      .catch(function (e) { setStatus("Error: " + (e.message || e)); })
      .then(function () { sendBtn.disabled = false; textEl.focus(); });
  }

  form.addEventListener("submit", function (ev) { ev.preventDefault(); send(textEl.value, null); });
  textEl.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); send(textEl.value, null); }
  });
  resendBtn.addEventListener("click", function () { if (lastSid) { send("", lastSid); } });
  patientSel.addEventListener("change", function () { phoneInput.value = ""; lastSid = null; resendBtn.disabled = true; poll(); });
  phoneInput.addEventListener("change", function () { lastSid = null; resendBtn.disabled = true; poll(); });

  fetch("/simulator/api/phones")
    .then(function (r) {
      if (r.status === 401) { window.location.assign("/inbox/login?next=/simulator"); throw new Error("sign in first"); }
      return r.json();
    })
    .then(function (data) {
      patientSel.textContent = "";
      var none = document.createElement("option");
      none.value = "";
      none.textContent = data.patients.length ? "Choose a patient..." : "No patients with a phone";
      patientSel.appendChild(none);
      data.patients.forEach(function (p) {
        var o = document.createElement("option");
        o.value = p.phone;
        o.textContent = p.name + " (" + p.phone + ")" + (p.opted_out ? " - opted out" : "");
        patientSel.appendChild(o);
      });
      document.getElementById("mode").textContent = "Clinic: " + data.clinic.name + ". Outbound: " + data.twilio + ".";
    })
    .catch(function () { setStatus("Could not load demo patients."); });
})();
