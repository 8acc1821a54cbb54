/*! Aftercare web chat widget. One tag on any page:
 *  <script src="https://CLINIC-HOST/widget.js" async
 *          data-clinic-url="https://CLINIC-HOST" data-color="#0f5f73"
 *          data-title="Glow Studio" data-greeting="Hi!"></script>
 *  Vanilla JS, Shadow DOM, no dependencies. See docs/widget.md. */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[src*='widget.js']");
  if (!script || window.AftercareWidget) return;
  var ds = script.dataset || {};
  var base = (ds.clinicUrl || new URL(script.src, location.href).origin).replace(/\/+$/, "");
  var pageMode = ds.mode === "page";
  var token = ds.chatToken || "";
  var KEY = "aftercare-chat:" + base + (token ? ":t:" + token : "");
  var FAST = 4000, SLOW = 30000, MAX_BACKOFF = 60000, MAX_TEXT = 2000;
  var MAX_PHOTO = 5 * 1024 * 1024; // the server's limit (core/media.py MAX_BYTES)
  // the widget's own words, from content/<language>/widget_ui.yml (api/routes/widget.py puts them here)
  var STRINGS = /*AC_STRINGS*/null;
  var LANG = pickLanguage();
  function pickLanguage() {
    var wanted = [ds.lang].concat(navigator.languages || [], navigator.language || []);
    for (var i = 0; i < wanted.length; i++) {
      var code = String(wanted[i] || "").toLowerCase().split(/[-_]/)[0];
      if (code && STRINGS && STRINGS[code]) return code;
      if (code === "en") break; // English before Spanish in the browser's list: English
    }
    return "en";
  }
  function T(key, vals) {
    var table = (STRINGS && STRINGS[LANG]) || (STRINGS && STRINGS.en) || {};
    var text = table[key] || (STRINGS && STRINGS.en && STRINGS.en[key]) || key;
    return text.replace(/\{(\w+)\}/g, function (m, k) { return vals && vals[k] !== undefined ? String(vals[k]) : m; });
  }
  var SR_AUTHOR = { patient: T("author_patient"), bot: T("author_bot"), staff: T("author_staff"), system: T("author_system") };

  // ------------------------------------------------------------ storage
  function load() {
    try { return JSON.parse(localStorage.getItem(KEY) || "{}") || {}; } catch (e) { return {}; }
  }
  var saved = load();
  function save() {
    try {
      localStorage.setItem(KEY, JSON.stringify({
        sid: st.sid, open: st.open, flags: st.flags,
        pending: !st.restored ? saved.pending || [] : st.items.filter(function (i) { return i.failed && i.retryable; })
          .map(function (i) { return { text: i.payload, shown: i.text, key: i.key }; })
      }));
    } catch (e) { /* storage disabled: the chat still works for this page view */ }
  }

  var st = {
    sid: saved.sid || null, open: !!saved.open && !pageMode, flags: saved.flags || {},
    lastId: null, seen: {}, items: [], queue: [], titles: {}, sending: false, syncing: false,
    failures: 0, timer: null, unread: 0, takeover: false, cfg: {}
  };

  // ------------------------------------------------------------ colour (WCAG)
  function rgb(hex) {
    var m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(String(hex || "").trim());
    if (!m) return null;
    var h = m[1].length === 3 ? m[1].replace(/./g, "$&$&") : m[1];
    return [0, 2, 4].map(function (i) { return parseInt(h.substr(i, 2), 16); });
  }
  function lum(c) {
    var v = c.map(function (x) { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
  }
  function contrast(a, b) {
    var x = lum(a), y = lum(b);
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  }
  function hex(c) { return "#" + c.map(function (x) { return ("0" + Math.round(x).toString(16)).slice(-2); }).join(""); }
  function applyColor(color) {
    var c = rgb(color) || rgb("#0f5f73"), white = [255, 255, 255], black = [17, 17, 17];
    var on = contrast(c, white) >= contrast(c, black) ? white : black;
    var ink = c.slice();  // the brand colour darkened until it reads on white (4.5:1)
    for (var i = 0; i < 20 && contrast(ink, white) < 4.5; i++) ink = ink.map(function (x) { return x * 0.85; });
    host.style.setProperty("--ac-brand", hex(c));
    host.style.setProperty("--ac-on-brand", hex(on));
    host.style.setProperty("--ac-ink", hex(ink));
  }

  // ------------------------------------------------------------ DOM helpers
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function icon(d, cls) {
    var ns = "http://www.w3.org/2000/svg", s = document.createElementNS(ns, "svg"), p = document.createElementNS(ns, "path");
    s.setAttribute("viewBox", "0 0 24 24");
    s.setAttribute("aria-hidden", "true");
    s.setAttribute("focusable", "false");
    if (cls) s.setAttribute("class", cls);
    p.setAttribute("d", d);
    s.appendChild(p);
    return s;
  }
  var I_CHAT = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z";
  var I_CLOSE = "M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6l5.6-5.6L5 6.4z";
  var I_SEND = "M3 20.5 21 12 3 3.5V10l12 2-12 2z";
  var I_ALERT = "M12 2 1 21h22L12 2zm1 15h-2v2h2v-2zm0-7h-2v5h2v-5z";
  var I_CAMERA = "M9 3 7.2 5H4a2 2 0 0 0-2 2v11a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2h-3.2L15 3H9zm3 5a4.5 4.5 0 1 1 0 9 4.5 4.5 0 0 1 0-9zm0 2a2.5 2.5 0 1 0 0 5 2.5 2.5 0 0 0 0-5z";

  // Text with http(s) links, built from text nodes only (no HTML parsing).
  var URL_RE = /\bhttps?:\/\/[^\s<>"']+/gi;
  function richText(parent, text) {
    var last = 0, m;
    URL_RE.lastIndex = 0;
    while ((m = URL_RE.exec(text))) {
      var url = m[0].replace(/[.,;:!?)\]]+$/, ""), href = null;
      try { var u = new URL(url); if (u.protocol === "http:" || u.protocol === "https:") href = u.href; } catch (e) { /* not a link */ }
      if (!href) continue;
      parent.appendChild(document.createTextNode(text.slice(last, m.index)));
      var a = el("a", null, url);
      a.href = href;
      a.target = "_blank";
      a.rel = "noopener noreferrer nofollow";
      parent.appendChild(a);
      last = m.index + url.length;
      URL_RE.lastIndex = last;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function parseTime(s) {
    if (!s) return new Date();
    if (!/(z|[+-]\d\d:?\d\d)$/i.test(s)) s += "Z";  // the server stores UTC
    var d = new Date(s);
    return isNaN(d) ? new Date() : d;
  }
  function fmtTime(d) {
    var t = d.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
    return d.toDateString() === new Date().toDateString() ? t : d.toLocaleDateString([], { month: "short", day: "numeric" }) + ", " + t;
  }

  // ------------------------------------------------------------ the shadow DOM
  var host = el("div");
  host.setAttribute("data-aftercare-widget", pageMode ? "page" : "launcher");
  var target = pageMode && ds.target ? document.querySelector(ds.target) : null;
  if (pageMode) host.style.height = "100%";
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var CSS = `
:host{all:initial;display:block}
.ac,.ac *{box-sizing:border-box}
[hidden]{display:none!important}
.ac{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1d2329;-webkit-font-smoothing:antialiased}
.ac button,.ac textarea{font:inherit;color:inherit}
.ac button{cursor:pointer}
.ac :focus-visible{outline:3px solid var(--ac-ink);outline-offset:2px}
.ac-sr{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
.ac-launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;display:flex;align-items:center;gap:8px;height:56px;padding:0 20px 0 16px;border:2px solid #fff;border-radius:28px;background:var(--ac-brand);color:var(--ac-on-brand);font-weight:600;box-shadow:0 6px 20px rgba(0,0,0,.25)}
.ac-launcher svg{width:24px;height:24px;fill:currentColor}
.ac-launcher:focus-visible{outline-color:var(--ac-brand);outline-offset:3px}
.ac-badge{position:absolute;top:-6px;right:-6px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#b3261e;color:#fff;font-size:12px;line-height:22px;text-align:center}
.ac-panel{position:fixed;right:20px;bottom:88px;z-index:2147483001;display:flex;flex-direction:column;width:380px;height:min(640px,calc(100vh - 110px));background:#fff;border-radius:16px;overflow:hidden;box-shadow:0 12px 40px rgba(0,0,0,.28)}
.ac-head{display:flex;align-items:flex-start;gap:8px;padding:14px 12px 14px 18px;background:var(--ac-brand);color:var(--ac-on-brand)}
.ac-head-text{flex:1;min-width:0}
.ac-title{margin:0;font-size:17px;font-weight:700;line-height:1.3}
.ac-sub{margin:2px 0 0;font-size:13px}
.ac-sub a{color:inherit;font-weight:600}
.ac-close{flex:none;width:40px;height:40px;display:grid;place-items:center;border:0;border-radius:8px;background:transparent;color:inherit}
.ac-close svg{width:22px;height:22px;fill:currentColor}
.ac-close:focus-visible{outline-color:var(--ac-on-brand);outline-offset:-3px}
.ac-banner{display:flex;align-items:center;gap:10px;padding:10px 14px;background:#fff4e5;color:#5a3800;border-bottom:1px solid #f0c987;font-size:14px}
.ac-banner-text{flex:1}
.ac-banner-retry,.ac-retry{border:1.5px solid currentColor;border-radius:8px;background:#fff;padding:4px 12px;font-weight:600}
.ac-log{flex:1;overflow-y:auto;padding:16px 14px 8px;background:#f5f6f8;display:flex;flex-direction:column;gap:10px;overscroll-behavior:contain}
.ac-log:focus-visible{outline-offset:-3px}
.ac-msg{display:flex;flex-direction:column;align-items:flex-start}
.ac-patient{align-self:flex-end;align-items:flex-end;max-width:88%}
.ac-bubble{max-width:88%;padding:9px 13px;border-radius:16px 16px 16px 4px;background:#fff;border:1px solid #dde1e6;white-space:pre-wrap;overflow-wrap:anywhere}
.ac-patient .ac-bubble{max-width:100%;border-radius:16px 16px 4px 16px;background:var(--ac-brand);border-color:var(--ac-brand);color:var(--ac-on-brand)}
.ac-staff .ac-bubble{background:#eef4fb;border-color:#c5d6ea}
.ac-who{font-size:12px;font-weight:600;color:#3d4852;margin:0 0 2px 4px}
.ac-system{align-self:center;max-width:100%}
.ac-system .ac-bubble{background:transparent;border:0;color:#4a5560;font-size:13px;text-align:center}
.ac-bubble a{color:var(--ac-ink);text-decoration:underline}
.ac-patient .ac-bubble a{color:inherit}
.ac-urgent .ac-bubble{border-left:4px solid #a15600;background:#fffaf2}
.ac-emergency{max-width:100%;width:100%}
.ac-emergency .ac-bubble{width:100%;max-width:100%;background:#fdecea;border:2px solid #b3261e;color:#4a0a06;font-weight:500}
.ac-tag{display:flex;align-items:center;gap:6px;margin-bottom:4px;color:#8c1d18;font-size:13px;letter-spacing:.04em;text-transform:uppercase}
.ac-tag svg{width:18px;height:18px;fill:currentColor}
.ac-call{display:inline-block;margin-top:10px;padding:8px 18px;border-radius:20px;background:#b3261e;color:#fff!important;font-weight:700;text-decoration:none!important}
.ac-meta{display:flex;align-items:center;gap:8px;margin:3px 4px 0;font-size:12px;color:#4f5a65}
.ac-failed .ac-bubble{opacity:.85;border:2px dashed #b3261e}
.ac-failed .ac-state{color:#a1201a;font-weight:600}
.ac-pending .ac-bubble{opacity:.75}
.ac-retry{padding:2px 10px;font-size:12px;color:#a1201a}
.ac-quick{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px}
.ac-qr{padding:7px 13px;border:1.5px solid var(--ac-ink);border-radius:18px;background:#fff;color:var(--ac-ink);font-size:14px;font-weight:600;text-align:left}
.ac-qr:hover{background:var(--ac-brand);border-color:var(--ac-brand);color:var(--ac-on-brand)}
.ac-typing{padding:0 14px 8px;background:#f5f6f8}
.ac-dots{display:inline-flex;gap:4px;padding:12px 14px;background:#fff;border:1px solid #dde1e6;border-radius:16px 16px 16px 4px}
.ac-dots i{width:7px;height:7px;border-radius:50%;background:#6b7580;animation:ac-b 1.2s infinite ease-in-out}
.ac-dots i:nth-child(2){animation-delay:.15s}
.ac-dots i:nth-child(3){animation-delay:.3s}
@keyframes ac-b{0%,80%,100%{transform:translateY(0);opacity:.5}40%{transform:translateY(-4px);opacity:1}}
@media (prefers-reduced-motion:reduce){.ac-dots i{animation:none}}
.ac-composer{display:flex;align-items:flex-end;gap:8px;padding:10px 12px;border-top:1px solid #dde1e6;background:#fff}
.ac-input{flex:1;min-height:44px;max-height:120px;resize:none;padding:10px 12px;border:1.5px solid #8a949e;border-radius:12px;background:#fff;font-size:16px;line-height:1.35}
.ac-input:focus-visible{outline-offset:0;border-color:var(--ac-ink)}
.ac-send{flex:none;width:44px;height:44px;display:grid;place-items:center;border:0;border-radius:50%;background:var(--ac-brand);color:var(--ac-on-brand)}
.ac-send svg{width:22px;height:22px;fill:currentColor}
.ac-attach{flex:none;width:44px;height:44px;display:grid;place-items:center;border:1.5px solid #8a949e;border-radius:50%;background:#fff;color:var(--ac-ink)}
.ac-attach svg{width:22px;height:22px;fill:currentColor}
.ac-file{position:absolute;width:1px;height:1px;opacity:0;pointer-events:none}
.ac-photo{display:block;max-width:180px;max-height:180px;border-radius:10px;margin-bottom:4px}
.ac-photo-label{font-style:italic}
@media (max-width:520px){.ac-panel{inset:0;width:100%;height:100%;max-height:none;border-radius:0}.ac-open .ac-launcher{display:none}}
.ac-page{height:100%}
.ac-page .ac-panel{position:static;width:100%;height:100%;border-radius:0;box-shadow:none}
`;
  if (root.adoptedStyleSheets !== undefined && window.CSSStyleSheet && CSSStyleSheet.prototype.replaceSync) {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } else {
    root.appendChild(el("style", null, CSS));
  }
  applyColor(ds.color);

  var wrap = el("div", "ac" + (pageMode ? " ac-page" : ""));
  var launcher = el("button", "ac-launcher");
  launcher.type = "button";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "ac-panel");
  launcher.appendChild(icon(I_CHAT));
  var launcherText = el("span", "ac-launcher-text", T("launcher"));
  launcher.appendChild(launcherText);
  var badge = el("span", "ac-badge");
  badge.hidden = true;
  launcher.appendChild(badge);

  var panel = el("section", "ac-panel");
  panel.id = "ac-panel";
  panel.setAttribute("role", pageMode ? "region" : "dialog");
  panel.setAttribute("aria-labelledby", "ac-title");
  panel.hidden = !pageMode;
  var head = el("header", "ac-head");
  var headText = el("div", "ac-head-text");
  var title = el("h2", "ac-title", ds.title || T("default_title"));
  title.id = "ac-title";
  var sub = el("p", "ac-sub", T("subtitle_bot"));
  headText.appendChild(title);
  headText.appendChild(sub);
  head.appendChild(headText);
  var closeBtn = el("button", "ac-close");
  closeBtn.type = "button";
  closeBtn.setAttribute("aria-label", T("close"));
  closeBtn.appendChild(icon(I_CLOSE));
  if (!pageMode) head.appendChild(closeBtn);

  var banner = el("div", "ac-banner");
  banner.setAttribute("role", "alert");
  banner.hidden = true;
  var bannerText = el("span", "ac-banner-text");
  var bannerRetry = el("button", "ac-banner-retry", T("retry"));
  bannerRetry.type = "button";
  banner.appendChild(bannerText);
  banner.appendChild(bannerRetry);

  var log = el("div", "ac-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", T("conversation"));
  log.tabIndex = 0;
  var greeting = el("div", "ac-msg ac-bot ac-greeting");
  var greetingBubble = el("div", "ac-bubble");
  greeting.appendChild(greetingBubble);
  log.appendChild(greeting);

  var typing = el("div", "ac-typing");
  typing.setAttribute("role", "status");
  typing.hidden = true;
  var dots = el("span", "ac-dots");
  dots.setAttribute("aria-hidden", "true");
  dots.appendChild(el("i"));
  dots.appendChild(el("i"));
  dots.appendChild(el("i"));
  typing.appendChild(dots);
  typing.appendChild(el("span", "ac-sr", T("typing")));

  var form = el("form", "ac-composer");
  form.noValidate = true;
  var label = el("label", "ac-sr", T("input_label"));
  label.htmlFor = "ac-input";
  var input = el("textarea", "ac-input");
  input.id = "ac-input";
  input.rows = 1;
  input.maxLength = MAX_TEXT;
  input.placeholder = T("placeholder");
  input.setAttribute("autocomplete", "off");
  // a photo (when the clinic team asks for one): the camera or a file; what is typed goes with it as a caption
  var attachBtn = el("button", "ac-attach");
  attachBtn.type = "button";
  attachBtn.setAttribute("aria-label", T("send_photo"));
  attachBtn.title = T("send_photo");
  attachBtn.appendChild(icon(I_CAMERA));
  var fileInput = el("input", "ac-file");
  fileInput.type = "file";
  fileInput.accept = "image/*";
  fileInput.tabIndex = -1;
  fileInput.setAttribute("aria-hidden", "true");
  var sendBtn = el("button", "ac-send");
  sendBtn.type = "submit";
  sendBtn.setAttribute("aria-label", T("send"));
  sendBtn.appendChild(icon(I_SEND));
  form.appendChild(label);
  form.appendChild(attachBtn);
  form.appendChild(fileInput);
  form.appendChild(input);
  form.appendChild(sendBtn);

  panel.appendChild(head);
  panel.appendChild(banner);
  panel.appendChild(log);
  panel.appendChild(typing);
  panel.appendChild(form);
  if (!pageMode) wrap.appendChild(launcher);
  wrap.appendChild(panel);
  root.appendChild(wrap);

  function setSub(text) {
    var phone = st.cfg.clinic_phone;
    sub.textContent = text;
    if (phone) {
      var a = el("a", null, st.cfg.clinic_phone_display || phone);
      a.href = "tel:" + phone.replace(/[^\d+]/g, "");
      sub.appendChild(document.createTextNode(" " + T("clinic_phone_label") + " "));
      sub.appendChild(a);
    }
  }
  function applyConfig() {
    var c = st.cfg, name = ds.title || c.clinic_name || T("default_title");
    title.textContent = name;
    launcher.setAttribute("aria-label", T("chat_with", { name: name }));
    if (!ds.color && c.color) applyColor(c.color);
    greetingBubble.textContent = "";
    richText(greetingBubble, ds.greeting || c.greeting || T("default_greeting"));
    setSub(T(st.takeover ? "subtitle_staff" : "subtitle_bot"));
  }
  applyConfig();

  // ------------------------------------------------------------ HTTP
  function api(method, path, body, timeoutMs, headers) {
    var ctl = window.AbortController ? new AbortController() : null;
    var timer = ctl && setTimeout(function () { ctl.abort(); }, timeoutMs || 15000);
    var opts = { method: method, credentials: "omit", mode: "cors", cache: "no-store", signal: ctl && ctl.signal };
    if (body) { opts.headers = Object.assign({ "Content-Type": "application/json" }, headers || {}); opts.body = JSON.stringify(body); }
    return fetch(base + path, opts).then(function (r) {
      clearTimeout(timer);
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (r.ok) return data;
        var e = new Error(typeof data.detail === "string" ? data.detail : "HTTP " + r.status);
        e.status = r.status;
        throw e;
      });
    }, function () {
      clearTimeout(timer);
      var e = new Error("network");
      e.status = 0;
      throw e;
    });
  }
  function ensureSession() {
    if (st.sid) return Promise.resolve(st.sid);
    return api("POST", "/api/v1/chat/sessions", token ? { chat_token: token, language: LANG } : { language: LANG }).then(function (d) {
      st.sid = d.session_id;
      save();
      return st.sid;
    });
  }

  // ------------------------------------------------------------ messages
  function isEmergencyText(t) { return /^\W*(please\s+)?call\s+911\b/i.test(t || ""); }

  function render(item) {
    var node = el("div", "ac-msg ac-" + item.author);
    var who = el("span", item.author === "staff" ? "ac-who" : "ac-sr", SR_AUTHOR[item.author] || item.author);
    node.appendChild(who);
    var bubble = el("div", "ac-bubble");
    if (item.level === "emergency") {
      node.classList.add("ac-emergency");
      bubble.setAttribute("role", "alert");
      var tag = el("strong", "ac-tag");
      tag.appendChild(icon(I_ALERT));
      tag.appendChild(document.createTextNode(T("emergency")));
      bubble.appendChild(tag);
    } else if (item.level === "urgent") {
      node.classList.add("ac-urgent");
    }
    if (item.photoUrl) {
      var img = el("img", "ac-photo");
      img.src = item.photoUrl;
      img.alt = T("your_photo");
      bubble.appendChild(img);
    } else if (item.photo) {
      bubble.appendChild(el("div", "ac-photo-label", T("photo_sent")));
    }
    var body = el("div", "ac-text");
    richText(body, item.text);
    if (item.text || !item.photo) bubble.appendChild(body);
    if (item.level === "emergency") {
      var call = el("a", "ac-call", T("call_911"));
      call.href = "tel:911";
      bubble.appendChild(call);
    }
    node.appendChild(bubble);
    var meta = el("div", "ac-meta");
    item.timeEl = el("time");
    meta.appendChild(item.timeEl);
    item.stateEl = el("span", "ac-state");
    meta.appendChild(item.stateEl);
    if (item.author === "patient") {
      item.retryEl = el("button", "ac-retry", T("retry"));
      item.retryEl.type = "button";
      item.retryEl.hidden = true;
      item.retryEl.setAttribute("aria-label", T("retry_sending", { text: item.text.slice(0, 60) }));
      item.retryEl.addEventListener("click", function () { input.focus(); deliver(item); });
      meta.appendChild(item.retryEl);
    }
    node.appendChild(meta);
    if (item.buttons && item.buttons.length) {
      var quick = el("div", "ac-quick");
      quick.setAttribute("role", "group");
      quick.setAttribute("aria-label", T("suggested_replies"));
      item.buttons.forEach(function (b) {
        if (!b || !b.title) return;
        st.titles[b.payload || b.title] = b.title;
        var qb = el("button", "ac-qr", b.title);
        qb.type = "button";
        qb.addEventListener("click", function () { send(b.payload || b.title, b.title); });
        quick.appendChild(qb);
      });
      node.appendChild(quick);
      item.quickEl = quick;
    }
    item.node = node;
    setTime(item);
    return node;
  }
  function setTime(item) {
    item.timeEl.dateTime = item.at.toISOString();
    item.timeEl.textContent = fmtTime(item.at);
  }
  function setState(item, state) {
    item.failed = state === "failed";
    item.node.classList.toggle("ac-failed", item.failed);
    item.node.classList.toggle("ac-pending", state === "sending");
    item.stateEl.textContent = state === "sending" ? T("sending") : item.failed ? T("not_sent") : "";
    if (item.retryEl) item.retryEl.hidden = !(item.failed && item.retryable);
  }
  function add(item) {
    item.at = item.at || new Date();
    st.items.push(item);
    log.appendChild(render(item));
    // older suggestions go away once the conversation moves on
    st.items.forEach(function (i) {
      if (i !== item && i.quickEl && (item.author === "patient" || (item.buttons && item.buttons.length))) {
        i.quickEl.remove();
        i.quickEl = null;
      }
    });
    scrollDown();
    return item;
  }
  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function fromServer(m) {
    var text = m.text || "";
    if (m.author === "patient" && st.titles[text]) text = st.titles[text];  // a quick reply: show its title
    var level = st.flags[m.id] || (m.author !== "patient" && isEmergencyText(text) ? "emergency" : null);
    return { id: m.id, author: m.author, text: text, payload: m.text, buttons: m.buttons, level: level, at: parseTime(m.created_at), photo: (m.photos || 0) > 0 };
  }

  // Reconcile the server transcript with what this page already shows.
  function apply(messages) {
    var added = 0;
    messages.forEach(function (m) {
      st.lastId = m.id;
      if (st.seen[m.id]) return;
      st.seen[m.id] = true;
      var local = null;
      for (var i = 0; i < st.items.length; i++) {
        var it = st.items[i];
        if (!it.id && it.author === m.author && (it.payload || it.text || "") === (m.text || "") && !!it.photo === (m.photos || 0) > 0) { local = it; break; }
      }
      if (local) {
        local.id = m.id;
        local.at = parseTime(m.created_at);
        setTime(local);
        if (local.failed) setState(local, null);  // it did arrive after all
        if (local.level) st.flags[m.id] = local.level;
        return;
      }
      add(fromServer(m));
      if (m.author !== "patient") added++;
    });
    if (added && (!st.open || document.hidden) && !pageMode) {
      st.unread += added;
      badge.textContent = String(st.unread);
      badge.hidden = false;
      launcher.setAttribute("aria-label", T(st.unread > 1 ? "chat_with_new" : "chat_with_one_new", { name: title.textContent, count: st.unread }));
    }
    save();
  }

  function sync() {
    if (!st.sid || st.syncing) return Promise.resolve(true);
    st.syncing = true;
    var q = st.lastId ? "?after=" + encodeURIComponent(st.lastId) : "";
    return api("GET", "/api/v1/chat/sessions/" + encodeURIComponent(st.sid) + "/messages" + q, null, 10000).then(function (d) {
      st.syncing = false;
      apply(d.messages || []);
      if (!!d.staff_takeover !== st.takeover) {
        st.takeover = !!d.staff_takeover;
        applyConfig();
      }
      if (!st.sending) showBanner(null);
      return true;
    }, function (e) {
      st.syncing = false;
      if (e.status === 404) { st.sid = null; st.lastId = null; save(); return true; }  // session gone: start afresh
      return false;
    });
  }

  // why the server refused something, in the widget's language (the server's own detail is English)
  function why(e) {
    if (e.status === 413) return T("photo_too_large");
    if (e.status === 415) return T("not_a_photo");
    return LANG === "en" ? e.message : T("server_refused");
  }

  // ------------------------------------------------------------ sending
  function send(payload, shown) {
    payload = String(payload || "").trim();
    if (!payload) return false;
    var item = add({ author: "patient", text: shown || payload, payload: payload });
    deliver(item);
    return true;
  }
  function deliver(item) {
    if (!item) return;
    if (st.sending) {  // one message at a time, in order
      if (st.queue.indexOf(item) < 0) st.queue.push(item);
      item.retryable = true;
      setState(item, "sending");
      return;
    }
    st.sending = true;
    item.retryable = true;
    // one id per message, sent again on every retry: the server never stores or answers it twice
    item.key = item.key || (window.crypto && crypto.randomUUID ? crypto.randomUUID() : Date.now().toString(36) + Math.random().toString(36).slice(2));
    setState(item, "sending");
    showBanner(null);
    typing.hidden = false;
    scrollDown();
    ensureSession().then(function (sid) {
      return api("POST", "/api/v1/chat/sessions/" + encodeURIComponent(sid) + "/messages", { text: item.payload }, 30000, { "Idempotency-Key": item.key });
    }).then(function (res) {
      setState(item, null);
      var level = res.escalation && res.escalation.level;
      (res.replies || []).forEach(function (r, n) {
        add({ author: "bot", text: r.text || "", buttons: r.buttons, level: level === "emergency" && (n === 0 || isEmergencyText(r.text)) ? "emergency" : level === "urgent" && n === 0 ? "urgent" : null });
      });
    }, function (e) {
      if (e.status === 404 && st.sid && !item.renewed) {  // the stored session is gone: open a new one once
        st.sid = null; st.lastId = null; item.renewed = true;
        return "renew";
      }
      setState(item, "failed");
      st.queue.splice(0).forEach(function (q) { setState(q, "failed"); });  // keep the order: the rest waits for Retry
      if (e.status >= 400 && e.status < 500 && e.status !== 404 && e.status !== 408 && e.status !== 429) {
        item.retryable = false;  // rejected (too long, empty): give the text back to edit
        setState(item, "failed");
        item.stateEl.textContent = T("not_sent_why", { why: why(e) });
        if (!input.value) input.value = item.payload;
      } else if (e.status === 429) {  // a rate limit: the text is kept; say so, and where urgent help is
        showBanner(T("too_many"));
      } else {
        showBanner(T(navigator.onLine === false ? "offline_kept" : "unreachable_kept"));
      }
    }).then(function (again) {
      st.sending = false;
      if (again === "renew") return deliver(item);
      sent(item);
    });
  }
  // after a message or a photo went (or failed): the next one waits its turn, then a sync
  function sent(item) {
    typing.hidden = true;
    save();
    scrollDown();
    if (st.queue.length) return deliver(st.queue.shift());
    if (!item.failed) sync();
    schedule(FAST);
  }
  function photoReplies(res) {
    // the first reply is the "thanks for the photo" note; a red flag in the caption is answered after it
    var level = res.escalation && res.escalation.level;
    (res.replies || []).forEach(function (r, n) {
      add({ author: "bot", text: r.text || "", buttons: r.buttons, level: level === "emergency" && isEmergencyText(r.text) ? "emergency" : level === "urgent" && n === 1 ? "urgent" : null });
    });
  }
  function sendPhoto(file) {
    if (!file) return;
    if (!/^image\//.test(file.type || "") && !/\.(jpe?g|png|gif|webp|heic|heif)$/i.test(file.name || "")) {
      showBanner(T("not_a_photo"));
      return;
    }
    if (file.size > MAX_PHOTO) {
      showBanner(T("photo_too_large"));
      return;
    }
    if (st.sending) {
      showBanner(T("wait_for_last"));
      return;
    }
    var caption = String(input.value || "").trim().slice(0, MAX_TEXT);
    input.value = "";
    autosize();
    var item = add({ author: "patient", text: caption, payload: caption, photo: true });
    item.retryable = false;
    var reader = new FileReader();  // a preview from the file itself (a data: URL: allowed by the page's CSP)
    reader.onload = function () {
      var img = el("img", "ac-photo");
      img.src = reader.result;
      img.alt = T("your_photo");
      var bubble = item.node.querySelector(".ac-bubble");
      var label = bubble.querySelector(".ac-photo-label");
      if (label) label.remove();
      bubble.insertBefore(img, bubble.firstChild);
    };
    reader.readAsDataURL(file);
    st.sending = true;
    setState(item, "sending");
    showBanner(null);
    typing.hidden = false;
    ensureSession().then(function (sid) {
      return new Promise(function (resolve, reject) {
        var xhr = new XMLHttpRequest();
        xhr.open("POST", base + "/api/v1/chat/sessions/" + encodeURIComponent(sid) + "/photos");
        xhr.timeout = 120000;
        xhr.upload.onprogress = function (e) {
          if (e.lengthComputable) item.stateEl.textContent = T("sending_photo", { percent: Math.round((100 * e.loaded) / e.total) });
        };
        xhr.onload = function () {
          var data = {};
          try { data = JSON.parse(xhr.responseText || "{}"); } catch (err) { data = {}; }
          if (xhr.status >= 200 && xhr.status < 300) return resolve(data);
          var e = new Error(typeof data.detail === "string" ? data.detail : "HTTP " + xhr.status);
          e.status = xhr.status;
          reject(e);
        };
        xhr.onerror = xhr.ontimeout = function () { var e = new Error("network"); e.status = 0; reject(e); };
        var fd = new FormData();
        fd.append("photo", file, file.name || "photo.jpg");
        if (caption) fd.append("caption", caption);
        xhr.send(fd);
      });
    }).then(function (res) {
      setState(item, null);
      photoReplies(res);
    }, function (e) {
      setState(item, "failed");
      item.stateEl.textContent = e.status ? T("photo_not_sent_why", { why: why(e) }) : T("photo_not_sent");
      if (caption && !input.value) input.value = caption;  // the words are given back to send again
      showBanner(e.status === 429 ? T("photo_too_many")
        : e.status === 0 || e.status >= 500 ? T("photo_unreachable")
        : T("photo_failed", { why: why(e) }));
    }).then(function () {
      st.sending = false;
      sent(item);
    });
  }
  function retryAll() {
    showBanner(null);
    var failed = st.items.filter(function (i) { return i.failed && i.retryable; });
    input.focus();
    st.failures = 0;
    if (failed.length) failed.forEach(deliver);
    else tick();
  }
  function showBanner(text) {
    banner.hidden = !text;
    bannerText.textContent = text || "";
  }

  // ------------------------------------------------------------ polling
  function schedule(ms) {
    clearTimeout(st.timer);
    st.timer = setTimeout(tick, ms);
  }
  function tick() {
    if (!st.sid || document.hidden) return;  // visibilitychange / the next send restarts it
    if (st.sending) return schedule(1000);
    sync().then(function (ok) {
      st.failures = ok ? 0 : st.failures + 1;
      if (st.failures >= 2 && st.open) showBanner(T("connection_lost"));
      var every = st.open ? FAST : SLOW;
      schedule(st.failures ? Math.min(MAX_BACKOFF, every * Math.pow(2, st.failures)) : every);
    });
  }

  // ------------------------------------------------------------ open / close
  function setOpen(open, focus) {
    st.open = open || pageMode;
    panel.hidden = !st.open;
    launcher.setAttribute("aria-expanded", String(st.open));
    wrap.classList.toggle("ac-open", st.open);
    if (st.open) {
      st.unread = 0;
      badge.hidden = true;
      launcher.setAttribute("aria-label", T("chat_with", { name: title.textContent }));
      scrollDown();
      if (focus !== false) setTimeout(function () { input.focus(); }, 0);
      st.failures = 0;
      if (focus !== false) tick();
    } else if (focus !== false) {
      launcher.focus();
    }
    save();
  }

  launcher.addEventListener("click", function () { setOpen(!st.open); });
  closeBtn.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && !pageMode) { e.stopPropagation(); setOpen(false); }
  });
  bannerRetry.addEventListener("click", retryAll);
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (send(input.value)) { input.value = ""; autosize(); }
    input.focus();
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit ? form.requestSubmit() : sendBtn.click(); }
  });
  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 120) + "px";
  }
  input.addEventListener("input", autosize);
  attachBtn.addEventListener("click", function () { fileInput.click(); });
  fileInput.addEventListener("change", function () {
    var file = fileInput.files && fileInput.files[0];
    fileInput.value = "";  // the same photo can be chosen again
    sendPhoto(file);
  });
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { st.failures = 0; schedule(200); } });
  window.addEventListener("online", function () { st.failures = 0; showBanner(null); tick(); });
  window.addEventListener("offline", function () { if (st.open) showBanner(T("offline")); });

  // ------------------------------------------------------------ start
  function mount() {
    (target || document.body).appendChild(host);
    api("GET", "/api/v1/chat/config?lang=" + LANG, null, 10000).then(function (c) { st.cfg = c || {}; applyConfig(); }, function () { /* data- attributes / defaults */ });
    setOpen(st.open, false);
    // the transcript first, then what could not be sent before the page was closed
    (st.sid ? sync() : Promise.resolve()).then(function () {
      (saved.pending || []).forEach(function (p) {
        var it = add({ author: "patient", text: p.shown || p.text, payload: p.text });
        it.key = p.key;
        it.retryable = true;
        setState(it, "failed");
      });
      st.restored = true;
      if (saved.pending && saved.pending.length) showBanner(T("earlier_not_sent"));
      save();
      tick();
    });
  }
  window.AftercareWidget = {
    open: function () { setOpen(true); },
    close: function () { setOpen(false); },
    send: send
  };
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
