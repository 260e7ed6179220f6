/* archlab clickstream tracker: page views, clicks and custom events, sent in batches.
 *
 * <script src="http://127.0.0.1:8083/tracker.js" defer></script>
 *
 * Events are queued and sent to the collector that served this script (POST /collect) when 20
 * have gathered or 5 s have passed, and with navigator.sendBeacon when the page is hidden or
 * left, so the last clicks before a navigation are not lost. A visitor id lives in
 * localStorage, a session id (renewed after 30 minutes idle) in sessionStorage; neither holds
 * anything about the person. Elements with data-track="name" send that event when clicked,
 * with their data-product, data-coverage and data-value; links and buttons send "click".
 * Elements with data-track-load="name" (and the same fields) send that event once the page has
 * loaded: a confirmation page's purchases, say.
 * window.archlab.track(name, fields) sends any event the collector knows.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var endpoint = (script && script.dataset.endpoint) ||
    (script ? new URL("/collect", script.src).href : "/collect");
  var BATCH = 20, WAIT_MS = 5000, SESSION_IDLE_MS = 30 * 60 * 1000;
  var queue = [], timer = null;

  function id() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function stored(storage, key, make) {
    try {
      var value = storage.getItem(key);
      if (!value) { value = make(); storage.setItem(key, value); }
      return value;
    } catch (e) { return make(); } // storage refused (private mode): ids per page
  }

  function session() {
    var now = Date.now(), key = "archlab.session";
    try {
      var saved = JSON.parse(sessionStorage.getItem(key) || "null");
      if (!saved || now - saved.seen > SESSION_IDLE_MS) saved = { id: id() };
      saved.seen = now;
      sessionStorage.setItem(key, JSON.stringify(saved));
      return saved.id;
    } catch (e) { return stored({ getItem: function () {}, setItem: function () {} }, key, id); }
  }

  var visitor = stored(window.localStorage, "archlab.visitor", id);

  function send(useBeacon) {
    if (timer) { clearTimeout(timer); timer = null; }
    if (!queue.length) return;
    var body = JSON.stringify({ events: queue.splice(0, 500) });
    if (useBeacon && navigator.sendBeacon) {
      // text/plain: a simple request, so the browser sends it without a CORS preflight
      if (navigator.sendBeacon(endpoint, new Blob([body], { type: "text/plain" }))) return;
    }
    fetch(endpoint, { method: "POST", body: body, keepalive: true,
      headers: { "Content-Type": "text/plain" } }).catch(function () {});
  }

  function track(name, fields) {
    var event = { id: id(), name: name, time: Date.now(), session: session(),
      visitor: visitor, page: location.pathname + location.search,
      referrer: document.referrer || undefined };
    for (var key in fields || {}) event[key] = fields[key];
    queue.push(event);
    if (queue.length >= BATCH) send(false);
    else if (!timer) timer = setTimeout(function () { send(false); }, WAIT_MS);
  }

  function fieldsOf(element) {
    var data = element.dataset || {};
    var fields = { label: data.label };
    if (data.product) fields.product = data.product;
    if (data.coverage) fields.coverage = data.coverage;
    if (data.value) fields.value = Number(data.value);
    if (data.currency) fields.currency = data.currency;
    return fields;
  }

  document.addEventListener("click", function (e) {
    var target = e.target.closest && e.target.closest("[data-track], a, button");
    if (!target) return;
    track(target.dataset.track || "click", fieldsOf(target));
  }, true);

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") send(true);
  });
  window.addEventListener("pagehide", function () { send(true); });

  window.archlab = { track: track, flush: function () { send(false); } };
  track("page_view");
  var loaded = document.querySelectorAll("[data-track-load]");
  for (var i = 0; i < loaded.length; i++) track(loaded[i].dataset.trackLoad, fieldsOf(loaded[i]));
})();
