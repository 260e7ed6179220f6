"""The console's one HTML page: the systems' diagrams, the queue and pool tables, inline CSS
and a small vanilla script.

Everything is in the page itself — no build step, no framework, no CDN — so the console works
offline and on a fresh machine, and what it shows can be read in this one file. The diagrams
come from :mod:`archlab.console.diagram`; the script polls ``/api/state`` once a second and
rewrites numbers in place (no reload, so nothing flickers and a scrolled page stays put).

When a system runs HTTP instance groups (the storefront), a Fleet card shows every instance by
tier and zone with its health, each with a Kill button and each zone with Kill zone / Restore
zone (``archlab chaos``), the load balancers' target health, retries and WAF counters, and the
latest chaos actions.

When the ``images`` system serves its API (``endpoints["images"]`` in the supervisor's state),
a Gallery card shows its newest images, straight from that API (it allows the console's origin
in CORS), refreshed every five seconds, with a phone / tablet / desktop preview of the one
selected and the renditions each device would get.

When the ``clickstream`` system runs, a Clickstream card shows its dashboard: the stream's
one-minute windows (page views a minute, purchases in the last minute, spike alerts, late
events) and the collector's counters, then the lake's traffic over time, top pages, funnel and
purchases by coverage type, with what each query took and scanned. The charts are SVG drawn
on the server (:mod:`archlab.console.clickstream`); the script fetches them every five seconds
and swaps in only those that changed.
"""

from __future__ import annotations

from html import escape
from typing import Any

from archlab.console import clickstream
from archlab.console.diagram import render
from archlab.topology import Topology

POLL_MS = 1000
GALLERY_MS = 5000
GALLERY_LIMIT = 12
DASHBOARD_MS = 5000

STYLE = """
:root {
  --ink: #1f2328; --muted: #656d76; --line: #d0d7de; --soft: #f6f8fa; --bg: #f3f4f6;
  --alert: #cf222e; --alert-soft: #ffebe9; --ok: #1a7f37; --busy: #bc4c00; --busy-soft: #fff1e5;
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif;
}
header {
  display: flex; align-items: baseline; gap: 16px; padding: 12px 24px;
  background: #fff; border-bottom: 1px solid var(--line);
}
header h1 { font-size: 17px; margin: 0; }
#status { color: var(--muted); font-size: 13px; }
header a.nav { margin-left: auto; color: #0969da; font-size: 13px; text-decoration: none; }
#status::before { content: "●"; margin-right: 6px; color: var(--muted); }
#status.live::before { color: var(--ok); }
#status.offline::before { color: var(--alert); }
main { padding: 20px 24px 40px; }
.card {
  background: #fff; border: 1px solid var(--line); border-radius: 8px;
  padding: 14px 18px 18px; margin-bottom: 20px;
}
.card h2 { font-size: 15px; margin: 0 0 2px; }
.card h2 .profile { font-weight: 400; color: var(--muted); }
.card p { margin: 0 0 10px; color: var(--muted); }
.diagram { overflow-x: auto; }
.diagram svg { display: block; max-width: 100%; height: auto; }
.empty { color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 10px; border-bottom: 1px solid #eaeef2; text-align: right; }
th { font-size: 12px; font-weight: 600; color: var(--muted); background: var(--soft); }
th:first-child, td:first-child { text-align: left; }
td.action { text-align: left; width: 360px; }  /* room for a redrive's result: no reflow */
tr.missing td { color: var(--alert); }
.tag {
  display: inline-block; margin-left: 6px; padding: 0 6px; border-radius: 8px;
  font-size: 11px; color: var(--muted); background: var(--soft); border: 1px solid var(--line);
}
.alert { color: var(--alert); font-weight: 600; }
button {
  font: inherit; font-size: 13px; padding: 2px 10px; border-radius: 6px; cursor: pointer;
  border: 1px solid var(--line); background: var(--soft); color: var(--ink);
}
button:hover { background: #eaeef2; }
button:disabled { cursor: wait; opacity: .6; }
.result { margin-left: 8px; color: var(--muted); font-size: 13px; }
.result.error { color: var(--alert); }

.gallery { display: flex; flex-wrap: wrap; gap: 20px; align-items: flex-start; }
.tiles {
  flex: 1 1 420px; display: grid; gap: 12px;
  grid-template-columns: repeat(auto-fill, minmax(150px, 1fr));
}
button.tile {
  display: block; padding: 0; text-align: left; background: #fff; overflow: hidden;
  border: 1px solid var(--line); border-radius: 6px; font-size: 12px;
}
button.tile:hover { background: #fff; border-color: #8c959f; }
button.tile.selected { border-color: #0969da; box-shadow: 0 0 0 2px #ddf4ff; }
.tile .thumb, .tile .placeholder {
  display: block; width: 100%; aspect-ratio: 4 / 3; object-fit: cover; background: var(--soft);
}
.tile .placeholder { display: grid; place-items: center; color: var(--muted); }
.tile .caption { display: block; padding: 6px 8px; }
.tile .owner { display: block; font-weight: 600; }
.tile .size { color: var(--muted); font-variant-numeric: tabular-nums; }
.status-tag {
  display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 11px; float: right;
  border: 1px solid var(--line); background: var(--soft); color: var(--muted);
}
.status-tag.ready { color: var(--ok); border-color: #4ac26b; background: #dafbe1; }
.status-tag.pending { color: var(--busy); border-color: #fb8f44; background: var(--busy-soft); }
.status-tag.rejected { color: var(--alert); border-color: #ff8182; background: var(--alert-soft); }
.preview { flex: 0 1 560px; min-width: 280px; }
.preview[hidden] { display: none; }
.devices { display: flex; margin-bottom: 10px; }
.devices button { border-radius: 0; margin-left: -1px; }
.devices button:first-child { border-radius: 6px 0 0 6px; margin-left: 0; }
.devices button:last-child { border-radius: 0 6px 6px 0; }
.devices button[aria-pressed="true"] {
  background: #0969da; border-color: #0969da; color: #fff; position: relative;
}
.frame {
  margin: 0 auto; padding: 8px; background: #24292f; border-radius: 14px; transition: width .2s;
}
.frame.mobile { width: 200px; }
.frame.tablet { width: 360px; }
.frame.desktop { width: 100%; border-radius: 6px; }
.frame img { display: block; width: 100%; height: auto; border-radius: 4px; background: #fff; }
.serves { margin: 10px 0 0; color: var(--muted); font-size: 13px; }
.serves table { margin-top: 4px; }
.serves td:nth-child(2), .serves th:nth-child(2) { text-align: left; }

#fleet h3 { font-size: 13px; margin: 16px 0 6px; }
#fleet-grid td, #fleet-grid th { text-align: left; vertical-align: top; }
#fleet-grid th .down { color: var(--alert); font-weight: 600; margin-left: 6px; }
#fleet-grid th button { margin-left: 8px; }
.chips { display: flex; flex-wrap: wrap; gap: 6px; }
.chip {
  display: inline-flex; align-items: center; gap: 6px; padding: 3px 4px 3px 8px;
  border: 1px solid var(--line); border-radius: 12px; font-size: 12px; background: var(--soft);
}
.chip::before { content: "●"; color: var(--muted); }
.chip.healthy::before { color: var(--ok); }
.chip.unhealthy::before { color: var(--alert); }
.chip.initial::before, .chip.draining::before { color: var(--busy); }
.chip .numbers { color: var(--muted); font-variant-numeric: tabular-nums; }
.chip button { padding: 0 8px; font-size: 11px; border-radius: 10px; }
#chaos-log { margin: 0; padding-left: 20px; color: var(--muted); font-size: 13px; }

svg .private { fill: #eef3f8; }
svg .region-label { font-size: 10px; letter-spacing: .08em; fill: #57606a; }
svg .box { fill: #fff; stroke: #8c959f; stroke-width: 1; }
svg .stripe { fill: #8c959f; }
svg .compute .stripe { fill: #e16f24; }
svg .messaging .stripe { fill: #bf3989; }
svg .storage .stripe { fill: #2da44e; }
svg .data .stripe { fill: #0969da; }
svg .edge .stripe { fill: #8250df; }
svg .kind { font-size: 10px; letter-spacing: .06em; fill: var(--muted); }
svg .label { font-size: 13px; font-weight: 600; fill: var(--ink); }
svg .live { font-size: 12px; fill: #24292f; font-variant-numeric: tabular-nums; }
svg .badge rect { fill: #ddf4ff; stroke: #54aeff; stroke-width: .8; }
svg .badge text { font-size: 10px; fill: #0969da; }
svg .zone rect { fill: none; stroke: #8c959f; stroke-dasharray: 4 3; }
svg .zone text { font-size: 11px; font-variant-numeric: tabular-nums; }
svg .zone .zone-name { fill: var(--muted); }
svg .zone.busy rect { fill: var(--busy-soft); stroke: var(--busy); }
svg .node.alert .box { fill: var(--alert-soft); stroke: var(--alert); stroke-width: 1.5; }
svg .node.alert .live { fill: var(--alert); font-weight: 600; }
svg path.edge { fill: none; stroke: #6e7781; stroke-width: 1.4; }
svg path.edge.dead-letter { stroke: var(--alert); stroke-dasharray: 5 4; }
svg .arrowhead { fill: #6e7781; }
svg .arrowhead.dead-letter { fill: var(--alert); }
svg .edge-label {
  font-size: 11px; fill: #424a53; paint-order: stroke; stroke: #fff; stroke-width: 4px;
  stroke-linejoin: round;
}
"""

SCRIPT = """
"use strict";
const select = (name, value) => `[${name}="${CSS.escape(value)}"]`;
const all = (selector) => document.querySelectorAll(selector);
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
const age = (s) => (s < 90 ? `${s} s` : s < 5400 ? `${Math.round(s / 60)} min`
  : `${Math.round(s / 3600)} h`);
let refreshing = false;

function setText(selector, text) {
  for (const element of all(selector)) {
    if (element.textContent !== text) element.textContent = text;
  }
}

function updateDiagrams(state) {
  for (const [name, queue] of Object.entries(state.queues)) {
    const box = select("data-queue", name);
    const text = queue.missing ? "missing"
      : `${queue.visible} visible · ${queue.in_flight} in flight`;
    setText(`${box} .live`, text);
    const alert = queue.dead_letter_of.length > 0 && (queue.visible || 0) > 0;
    for (const element of all(box)) element.classList.toggle("alert", alert);
  }
  const pools = new Set([...state.pools.map((pool) => pool.pool),
    ...(state.groups || []).map((group) => group.group)]);
  for (const group of all("[data-pool]")) {
    if (pools.has(group.dataset.pool)) continue;
    const box = select("data-pool", group.dataset.pool);
    setText(`${box} .live`, "not running");
    setText(`${box} .count`, "\\u2013");
  }
  for (const pool of state.pools) {
    const box = select("data-pool", pool.pool);
    setText(`${box} .live`, `${plural(pool.size, "worker")} · ${pool.busy} busy`);
    for (const zone of all(`${box} .zone`)) {
      const counts = pool.zones[zone.dataset.zone] || {workers: 0, busy: 0};
      setText(`${box} ${select("data-zone", zone.dataset.zone)} .count`,
        `${plural(counts.workers, "worker")} · ${counts.busy} busy`);
      zone.classList.toggle("busy", counts.busy > 0);
    }
  }
  for (const group of state.groups || []) {
    const box = select("data-pool", group.group);
    setText(`${box} .live`, `${plural(group.size, "instance")} · ${group.healthy} healthy`);
    for (const zone of all(`${box} .zone`)) {
      const counts = group.zones_count[zone.dataset.zone] || {instances: 0, healthy: 0};
      setText(`${box} ${select("data-zone", zone.dataset.zone)} .count`,
        `${counts.instances} · ${counts.healthy} healthy`);
    }
  }
  for (const fn of state.functions) {
    const text = fn.alive ? `running · ${plural(fn.restarts, "restart")}` : "stopped";
    setText(`${select("data-function", fn.function)} .live`, text);
  }
}

function row(table, key, columns) {
  const body = document.querySelector(`#${table} tbody`);
  let tr = body.querySelector(select("data-key", key));
  if (!tr) {
    tr = document.createElement("tr");
    tr.dataset.key = key;
    for (let i = 0; i < columns; i++) tr.append(document.createElement("td"));
    body.append(tr);
  }
  return tr;
}

function fill(tr, first, values) {
  values.forEach((value, i) => {
    const cell = tr.cells[first + i];
    if (cell.textContent !== String(value)) cell.textContent = value;
  });
}

function updateQueues(queues) {
  for (const [name, queue] of Object.entries(queues)) {
    const tr = row("queues", name, 7);
    const isDeadLetter = queue.dead_letter_of.length > 0;
    if (!tr.cells[0].childNodes.length) {
      tr.cells[0].append(name);
      if (isDeadLetter) tr.cells[0].append(tagged("dead-letter queue"));
      tr.cells[6].className = "action";
    }
    tr.classList.toggle("missing", Boolean(queue.missing));
    const dead = queue.dead_letter_visible;
    fill(tr, 1, queue.missing ? ["missing", "", "", "", ""] : [queue.visible, queue.in_flight,
      queue.delayed, age(queue.oldest_age_s), dead === null ? "\\u2013" : dead]);
    tr.cells[5].classList.toggle("alert", Boolean(dead));
    if (isDeadLetter) {
      redriveControl(tr.cells[6], name, !queue.missing && queue.visible + queue.in_flight > 0);
    }
  }
}

function tagged(text) {
  const span = document.createElement("span");
  span.className = "tag";
  span.textContent = text;
  return span;
}

function redriveControl(cell, name, hasMessages) {
  let button = cell.querySelector("button");
  if (!button) {
    button = document.createElement("button");
    button.textContent = "Redrive";
    button.title = "Move these messages back to the queues they came from";
    const result = document.createElement("span");
    result.className = "result";
    button.addEventListener("click", () => redrive(name, button, result));
    cell.append(button, result);
  }
  button.hidden = !hasMessages;
}

async function redrive(name, button, result) {
  button.disabled = true;
  result.className = "result";
  result.textContent = "moving…";
  try {
    const response = await fetch(`/api/queues/${encodeURIComponent(name)}/redrive`,
      {method: "POST"});
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.detail || response.statusText);
    result.textContent = `moved ${plural(body.moved, "message")} back to `
      + body.sources.join(", ");
  } catch (error) {
    result.className = "result error";
    result.textContent = `redrive failed: ${error.message}`;
  } finally {
    button.disabled = false;
    refresh();
  }
}

function updatePools(pools) {
  for (const pool of pools) {
    fill(row("pools", pool.pool, 6), 0, [pool.pool, `${pool.min}\\u2013${pool.max}`, pool.size,
      pool.busy, pool.processed, pool.restarts]);
  }
}

async function refresh() {
  if (refreshing) return;
  refreshing = true;
  const status = document.getElementById("status");
  try {
    const response = await fetch("/api/state", {cache: "no-store"});
    if (!response.ok) throw new Error(response.statusText);
    const state = await response.json();
    updateDiagrams(state);
    updateQueues(state.queues);
    updatePools(state.pools);
    if (typeof updateFleet === "function") updateFleet(state);
    status.className = "live";
    status.textContent = `live · ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    status.className = "offline";
    status.textContent = "cannot reach archlab: is `archlab up` still running?";
  } finally {
    refreshing = false;
  }
}

refresh();
setInterval(refresh, POLL_MS);
"""


FLEET_SCRIPT = """
const fleetNote = document.getElementById("fleet-note");

async function chaosAction(path, button, what) {
  button.disabled = true;
  fleetNote.className = "";
  fleetNote.textContent = `${what}…`;
  try {
    const response = await fetch(path, {method: "POST"});
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.detail || response.statusText);
    fleetNote.textContent = `${what}: done. Watch the fleet heal.`;
  } catch (error) {
    fleetNote.className = "alert";
    fleetNote.textContent = `${what} failed: ${error.message}`;
  } finally {
    button.disabled = false;
    refresh();
  }
}

function chip(instance) {
  const span = document.createElement("span");
  const health = instance.lifecycle === "draining" ? "draining" : instance.health;
  span.className = `chip ${health}`;
  span.dataset.instance = instance.id;
  span.title = `${instance.id}: ${health}, pid ${instance.pid}, ${instance.url}`;
  const name = document.createElement("span");
  name.textContent = instance.id.replace(`${instance.group}-`, "");
  const numbers = document.createElement("span");
  numbers.className = "numbers";
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = "Kill";
  button.setAttribute("aria-label", `Kill instance ${instance.id}`);
  button.addEventListener("click", () => chaosAction(
    `/api/chaos/instances/${encodeURIComponent(instance.id)}/kill`, button,
    `killing ${instance.id}`));
  span.append(name, numbers, button);
  return span;
}

function updateFleet(state) {
  const grid = document.getElementById("fleet-grid");
  const down = new Set(state.zones_down);
  const zones = state.zones;
  const head = grid.tHead.rows[0];
  if (head.cells.length !== zones.length + 1) {
    while (head.cells.length > 1) head.deleteCell(1);
    for (const zone of zones) {
      const th = document.createElement("th");
      th.dataset.zone = zone;
      th.append(zone, Object.assign(document.createElement("span"), {className: "down"}),
        Object.assign(document.createElement("button"), {type: "button"}));
      th.querySelector("button").addEventListener("click", (event) => {
        const restore = down.has(zone) || event.target.dataset.down === "true";
        chaosAction(`/api/chaos/zones/${encodeURIComponent(zone)}/${restore ? "restore" : "kill"}`,
          event.target, `${restore ? "restoring" : "taking down"} ${zone}`);
      });
      head.append(th);
    }
  }
  for (const th of head.querySelectorAll("th[data-zone]")) {
    const isDown = down.has(th.dataset.zone);
    const button = th.querySelector("button");
    button.dataset.down = String(isDown);
    setTextOf(button, isDown ? "Restore zone" : "Kill zone");
    setTextOf(th.querySelector(".down"), isDown ? "down" : "");
  }
  for (const group of state.groups) {
    const tr = row("fleet-grid", group.group, zones.length + 1);
    setTextOf(tr.cells[0], `${group.tier} (${group.healthy}/${group.desired} healthy)`);
    zones.forEach((zone, i) => {
      const cell = tr.cells[i + 1];
      let chips = cell.querySelector(".chips");
      if (!chips) cell.append(chips = Object.assign(document.createElement("div"),
        {className: "chips"}));
      const here = state.instances.filter((x) => x.group === group.group && x.zone === zone);
      const ids = here.map((x) => x.id).join(" ");
      if (chips.dataset.ids !== ids) {
        chips.dataset.ids = ids;
        chips.replaceChildren(...here.map(chip));
      }
      for (const instance of here) {
        const element = chips.querySelector(select("data-instance", instance.id));
        const health = instance.lifecycle === "draining" ? "draining" : instance.health;
        element.className = `chip ${health}`;
        setTextOf(element.querySelector(".numbers"),
          `${instance.requests} req · ${instance.outstanding} in flight`);
      }
    });
  }
  for (const lb of state.balancers) {
    const targets = Object.entries(lb.target_health).map(([name, counts]) =>
      `${name.replace(`${lb.system}-`, "")}: ${counts.healthy || 0} healthy`
      + (counts.unhealthy ? `, ${counts.unhealthy} unhealthy` : "")
      + (counts.draining ? `, ${counts.draining} draining` : "")).join("; ");
    const waf = lb.waf || {blocked: {}, counted: {}};
    const tally = (counts) => Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(", ")
      || "0";
    fill(row("balancers", lb.balancer, 7), 0, [`${lb.node}${lb.public ? " (public)" : ""}`,
      lb.requests, lb.retries, (lb.responses || {})["5xx"] || 0, targets,
      lb.waf ? tally(waf.blocked) : "no WAF", lb.waf ? tally(waf.counted) : "\u2013"]);
  }
  refreshChaosLog();
}

function setTextOf(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

async function refreshChaosLog() {
  const response = await fetch("/api/chaos", {cache: "no-store"}).catch(() => null);
  if (!response || !response.ok) return;
  const body = await response.json();
  const list = document.getElementById("chaos-log");
  const lines = body.actions.slice(-8).reverse().map((entry) => {
    const when = new Date(entry.time * 1000).toLocaleTimeString();
    const what = entry.instance || entry.zone || "";
    return `${when} ${entry.action} ${what}`;
  });
  if (list.dataset.lines === lines.join("|")) return;
  list.dataset.lines = lines.join("|");
  list.replaceChildren(...(lines.length ? lines : ["nothing broken yet"]).map((text) =>
    Object.assign(document.createElement("li"), {textContent: text})));
}
"""


GALLERY_SCRIPT = """
const gallery = document.getElementById("gallery");
const imagesApi = gallery.dataset.images.replace(/\\/+$/, "");
const DEVICES = {  // the negotiation's defaults: CSS width x density, in physical pixels
  mobile: {name: "phone", width: 480 * 2},
  tablet: {name: "tablet", width: 1024 * 2},
  desktop: {name: "desktop", width: 1920 * 1},
};
const galleryState = {items: new Map(), selected: null, device: "mobile", loading: false};
const kilobytes = (n) => (n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} kB`
  : `${(n / 1048576).toFixed(1)} MB`);
const imageUrl = (item, query) => `${imagesApi}/images/${encodeURIComponent(item.id)}?${query}`
  + (item.status === "ready" ? "" : `&v=${item.status}`);  // a pending original is cached
const shown = (item) => item.status === "ready" || item.status === "pending";

function candidate(renditions, formats, width) {
  // As the server's pick(): the smallest at least `width` wide in the first accepted format
  // that has one, else the widest accepted.
  for (const format of formats) {
    const wide = renditions.filter((r) => r.format === format && r.width >= width);
    if (wide.length) return wide.reduce((a, b) => (b.width < a.width ? b : a));
  }
  const accepted = renditions.filter((r) => formats.includes(r.format));
  if (!accepted.length) return null;
  const rank = (r) => r.width * 8 - formats.indexOf(r.format);
  return accepted.reduce((a, b) => (rank(b) > rank(a) ? b : a));
}

function tile(item) {
  let button = gallery.querySelector(`.tile${select("data-id", item.id)}`);
  if (!button) {
    button = document.createElement("button");
    button.className = "tile";
    button.dataset.id = item.id;
    button.innerHTML = '<span class="media"></span><span class="caption">'
      + '<span class="status-tag"></span><span class="owner"></span>'
      + '<span class="size"></span></span>';
    button.addEventListener("click", () => selectImage(item.id));
  }
  const media = button.querySelector(".media");
  if (media.dataset.status !== item.status) {
    media.dataset.status = item.status;
    media.replaceChildren();
    if (shown(item)) {
      const img = document.createElement("img");
      img.className = "thumb";
      img.alt = `image ${item.id} by ${item.owner}`;
      img.src = imageUrl(item, "w=320");
      media.append(img);
    } else {
      const span = document.createElement("span");
      span.className = "placeholder";
      span.textContent = item.status;
      media.append(span);
    }
  }
  const tag = button.querySelector(".status-tag");
  tag.className = `status-tag ${item.status}`;
  tag.textContent = item.status;
  button.querySelector(".owner").textContent = item.owner || "anonymous";
  button.querySelector(".size").textContent = item.width
    ? `${item.width}\u00d7${item.height}` : "\u2013";
  button.classList.toggle("selected", item.id === galleryState.selected);
  return button;
}

function selectImage(id) {
  galleryState.selected = id;
  for (const button of gallery.querySelectorAll(".tile")) {
    button.classList.toggle("selected", button.dataset.id === id);
  }
  updatePreview(true);
}

function updatePreview(force) {
  const preview = document.getElementById("gallery-preview");
  const item = galleryState.items.get(galleryState.selected);
  preview.hidden = !item || !shown(item);
  if (preview.hidden) return;
  const device = DEVICES[galleryState.device];
  for (const button of preview.querySelectorAll("[data-device]")) {
    button.setAttribute("aria-pressed", String(button.dataset.device === galleryState.device));
  }
  const frame = preview.querySelector(".frame");
  frame.className = `frame ${galleryState.device}`;
  const img = document.getElementById("gallery-preview-image");
  const src = imageUrl(item, `device=${galleryState.device}`);
  if (force || img.getAttribute("src") !== src) {
    img.alt = `image ${item.id} as a ${device.name} gets it`;
    img.src = src;
  }
  const serves = preview.querySelector(".serves");
  const renditions = item.renditions || [];
  const wanted = `A ${device.name} wants ${device.width} px`;
  if (!renditions.length) {
    serves.textContent = `${wanted}; renditions are pending, so it gets the original.`;
    return;
  }
  const clients = [["JPEG", ["jpeg"]], ["AVIF", ["avif", "webp", "jpeg"]]];
  const rows = clients.map(([name, formats]) => {
    const chosen = candidate(renditions, formats, device.width);
    return chosen ? [name, chosen.label, `${chosen.width}\u00d7${chosen.height}`,
      kilobytes(chosen.bytes)] : [name, "none", "\u2013", "\u2013"];
  });
  serves.replaceChildren(`${wanted}; it gets:`);
  const table = document.createElement("table");
  table.innerHTML = "<thead><tr><th>format</th><th>rendition</th><th>pixels</th>"
    + "<th>bytes</th></tr></thead><tbody></tbody>";
  for (const values of rows) {
    const tr = table.tBodies[0].insertRow();
    tr.dataset.format = values[0].toLowerCase();
    for (const value of values) tr.insertCell().textContent = value;
  }
  serves.append(table);
}

async function refreshGallery() {
  if (galleryState.loading) return;
  galleryState.loading = true;
  const note = document.getElementById("gallery-status");
  try {
    const response = await fetch(`${imagesApi}/recent?limit=GALLERY_LIMIT`, {cache: "no-store"});
    if (!response.ok) throw new Error(response.statusText);
    const body = await response.json();
    galleryState.items = new Map(body.images.map((item) => [item.id, item]));
    if (!galleryState.items.has(galleryState.selected)) {
      galleryState.selected = (body.images.find(shown) || {}).id || null;
    }
    const tiles = document.getElementById("gallery-tiles");
    body.images.forEach((item, i) => {
      const button = tile(item);
      if (tiles.children[i] !== button) tiles.insertBefore(button, tiles.children[i] || null);
    });
    while (tiles.children.length > body.images.length) tiles.lastElementChild.remove();
    note.className = "";
    note.textContent = body.images.length
      ? `The ${plural(body.images.length, "newest image")}, from ${imagesApi}.`
      : `No images yet: upload one with POST ${imagesApi}/images.`;
    updatePreview(false);
  } catch (error) {
    note.className = "alert";
    note.textContent = `cannot reach the images API at ${imagesApi}`;
  } finally {
    galleryState.loading = false;
  }
}

for (const button of gallery.querySelectorAll("[data-device]")) {
  button.addEventListener("click", () => {
    galleryState.device = button.dataset.device;
    updatePreview(false);
  });
}
refreshGallery();
setInterval(refreshGallery, GALLERY_MS);
"""


def page(state: dict[str, Any]) -> str:
    """The whole page for the systems the supervisor's ``state`` names."""
    systems = state.get("systems", {})
    sections = [_system(name, system) for name, system in systems.items()]
    if not sections:
        sections = ['<section class="card"><p class="empty">No system is running.</p></section>']
    script = SCRIPT.replace("POLL_MS", str(POLL_MS))
    if state.get("groups"):
        sections.append(FLEET)
        script += FLEET_SCRIPT
    images = (state.get("endpoints") or {}).get("images")
    if images:
        sections.append(_gallery(images))
        script += GALLERY_SCRIPT.replace("GALLERY_MS", str(GALLERY_MS)).replace(
            "GALLERY_LIMIT", str(GALLERY_LIMIT)
        )
    style = STYLE
    if clickstream.SYSTEM in systems:
        sections.append(_dashboard())
        style += DASHBOARD_STYLE
        script += DASHBOARD_SCRIPT.replace("DASHBOARD_MS", str(DASHBOARD_MS))
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>archlab console</title>
<style>{style}</style>
</head>
<body>
<header><h1>archlab console</h1><span id="status">connecting…</span>
<a class="nav" href="/review">Well-Architected review →</a></header>
<main>
{"".join(sections)}
<section class="card">
<h2>Queues</h2>
<table id="queues"><thead><tr><th>queue</th><th>visible</th><th>in flight</th><th>delayed</th>
<th>oldest</th><th>dead letters</th><th></th></tr></thead><tbody></tbody></table>
</section>
<section class="card">
<h2>Worker pools</h2>
<table id="pools"><thead><tr><th>pool</th><th>min&ndash;max</th><th>workers</th><th>busy</th>
<th>processed</th><th>restarts</th></tr></thead><tbody></tbody></table>
</section>
</main>
<script>{script}</script>
</body>
</html>
"""


FLEET = """<section class="card" id="fleet">
<h2>Fleet <span class="profile">· HTTP instances by tier and zone</span></h2>
<p id="fleet-note">Kill an instance or a zone: the load balancers route around it and the
groups bring capacity back.</p>
<table id="fleet-grid"><thead><tr><th>tier</th></tr></thead><tbody></tbody></table>
<h3>Load balancers</h3>
<table id="balancers"><thead><tr><th>load balancer</th><th>requests</th><th>retries</th>
<th>5xx</th><th>targets</th><th>WAF blocked</th><th>WAF counted</th></tr></thead>
<tbody></tbody></table>
<h3>Chaos</h3>
<ol id="chaos-log" aria-live="polite"></ol>
</section>"""


def _system(name: str, system: dict[str, Any]) -> str:
    topology = Topology.model_validate(system["topology"])
    return (
        f'<section class="card system" data-system="{escape(name)}">'
        f'<h2>{escape(name)} <span class="profile">· {escape(system["profile"])} profile</span>'
        f"</h2><p>{escape(topology.description)}</p>"
        f'<div class="diagram">{render(topology)}</div></section>'
    )


def _gallery(images: str) -> str:
    """The Gallery card: its script fills the tiles from ``images``' ``/recent``."""
    devices = "".join(
        f'<button type="button" data-device="{device}" aria-pressed="false">{name}</button>'
        for device, name in (("mobile", "phone"), ("tablet", "tablet"), ("desktop", "desktop"))
    )
    return (
        f'<section class="card" id="gallery" data-images="{escape(images)}">'
        '<h2>Gallery <span class="profile">· images, newest first</span></h2>'
        '<p id="gallery-status">loading…</p><div class="gallery">'
        '<div class="tiles" id="gallery-tiles"></div>'
        f'<div class="preview" id="gallery-preview" hidden><div class="devices">{devices}</div>'
        '<div class="frame mobile"><img id="gallery-preview-image" alt=""></div>'
        '<div class="serves"></div></div></div></section>'
    )


DASHBOARD_STYLE = """
#clickstream .card-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 16px; }
#clickstream .card-head label { margin-left: auto; color: var(--muted); font-size: 13px; }
#clickstream h3 { font-size: 13px; margin: 18px 0 4px; }
#clickstream h3 .profile { font-weight: 400; color: var(--muted); }
#clickstream h4 { font-size: 13px; margin: 0 0 6px; }
#clickstream select { font: inherit; font-size: 13px; }
.dash {
  display: grid; gap: 14px; margin-top: 8px;
  grid-template-columns: repeat(auto-fit, minmax(min(100%, 290px), 1fr));
}
.dash .wide { grid-column: 1 / -1; }
.stack { display: grid; gap: 14px; align-content: start; }
@media (min-width: 700px) { .dash.lake { grid-template-columns: 1fr 1fr; } }
@media (min-width: 960px) { .dash.lake { grid-template-columns: 1fr 1fr 1fr; } }
@media (min-width: 760px) {
  .dash.live { grid-template-columns: 3fr 2fr; }
  .dash.live > .stack { grid-column: 1 / -1; grid-template-columns: 1fr 1fr; }
}
@media (min-width: 1180px) {
  .dash.live { grid-template-columns: 2fr 1fr 1fr; }
  .dash.live > .stack { grid-column: auto; grid-template-columns: 1fr; }
}
.chart { margin: 0; padding: 10px 12px; border: 1px solid #eaeef2; border-radius: 6px; }
.chart figcaption { font-size: 13px; font-weight: 600; margin-bottom: 4px; }
.chart .plot { container-type: inline-size; padding-top: 2px; }
.chart svg.c-chart { display: block; overflow: visible; }
.chart-note { margin: 4px 0 0; color: var(--muted); font-size: 12px; }
.chart-empty {
  display: grid; place-items: center; min-height: 120px; margin: 0; border-radius: 4px;
  color: var(--muted); background: repeating-linear-gradient(135deg, var(--soft) 0 8px,
  #fff 8px 16px);
}
.chart details { margin-top: 6px; font-size: 12px; }
.chart summary { color: var(--muted); cursor: pointer; }
.chart details table { margin-top: 4px; }
.chart details td, .chart details th { padding: 2px 8px; }
.side { padding: 10px 12px; border: 1px solid #eaeef2; border-radius: 6px; }
.alerts { margin: 0 0 8px; padding-left: 18px; }
.alert-item { color: var(--alert); }
.alert-item time { font-weight: 600; font-variant-numeric: tabular-nums; }
.late { margin: 8px 0 0; color: var(--muted); }
.late strong { color: var(--ink); font-variant-numeric: tabular-nums; }
.counters {
  display: grid; grid-template-columns: repeat(auto-fill, minmax(96px, 1fr)); gap: 8px;
  margin: 0;
}
.counters div { padding: 6px 8px; background: var(--soft); border-radius: 6px; }
.counters dt { font-size: 11px; color: var(--muted); }
.counters dd { margin: 0; font-size: 18px; font-weight: 600; font-variant-numeric: tabular-nums; }
.footnote { margin: 12px 0 0; color: var(--muted); font-size: 12px; }
#clickstream-error[hidden] { display: none; }

svg.c-chart text { font-size: 11px; fill: var(--muted); font-variant-numeric: tabular-nums; }
svg.c-chart .c-name { font-size: 12px; fill: var(--ink); }
svg.c-chart .c-value { font-size: 11.5px; fill: var(--ink); }
svg.c-chart .c-step { font-size: 12px; fill: var(--ink); font-weight: 600; }
svg.c-chart .c-grid { stroke: #eaeef2; }
svg.c-chart .c-base, svg.c-chart .c-tick { stroke: #8c959f; }
svg.c-chart .c-track { fill: var(--soft); }
svg.c-chart .c-bar:hover { opacity: .8; }
svg.c-chart .views { fill: #54aeff; }
svg.c-chart .c-track + .c-bar.views { fill: #b6e3ff; }
svg.c-chart .c-track + .c-bar.buys { fill: #aceebb; }
svg.c-chart .views.open { fill: #b6e3ff; }
svg.c-chart .views.alert { fill: var(--alert); }
svg.c-chart .buys { fill: #4ac26b; }
svg.c-chart .step-0 { fill: #0969da; }
svg.c-chart .step-1 { fill: #218bff; }
svg.c-chart .step-2 { fill: #54aeff; }
svg.c-chart .step-3 { fill: #2da44e; }
svg.c-chart .c-line { fill: none; stroke: #8250df; stroke-width: 2; stroke-linejoin: round; }
svg.c-chart .c-dot { fill: #8250df; }
svg.c-chart .c-swatch.views.open { fill: #b6e3ff; }
@container (max-width: 560px) { svg.c-chart .c-r2 { display: none; } }
@container (max-width: 300px) { svg.c-chart .c-r1 { display: none; } }
svg.c-chart .c-conversion rect { fill: #fff; stroke: #8c959f; }
svg.c-chart .c-conversion text { fill: var(--ink); font-size: 11px; font-weight: 600; }
"""

DASHBOARD_SCRIPT = """
const dashboard = document.getElementById("clickstream");
const dashboardDays = document.getElementById("clickstream-days");
const dashboardShown = new Map();
const dashboardState = {loading: false, again: false};

async function refreshDashboard() {
  if (dashboardState.loading) {
    dashboardState.again = true;
    return;
  }
  dashboardState.loading = true;
  const note = document.getElementById("clickstream-error");
  try {
    const days = encodeURIComponent(dashboardDays.value);
    const response = await fetch(`/api/clickstream/fragments?days=${days}`, {cache: "no-store"});
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.detail || response.statusText);
    for (const [slot, html] of Object.entries(body.fragments)) {
      const element = dashboard.querySelector(select("data-slot", slot));
      if (!element || dashboardShown.get(slot) === html) continue;
      const open = new Set([...element.querySelectorAll("details[open]")]
        .map((details) => details.dataset.key));
      element.innerHTML = html;
      for (const details of element.querySelectorAll("details")) {
        if (open.has(details.dataset.key)) details.open = true;
      }
      dashboardShown.set(slot, html);
    }
    dashboard.dataset.updated = String(body.generated_at);
    note.hidden = true;
  } catch (error) {
    note.hidden = false;
    note.textContent = `cannot load the dashboard: ${error.message}`;
  } finally {
    dashboardState.loading = false;
    if (dashboardState.again) {
      dashboardState.again = false;
      refreshDashboard();
    }
  }
}

dashboardDays.addEventListener("change", refreshDashboard);
refreshDashboard();
setInterval(refreshDashboard, DASHBOARD_MS);
"""


def _dashboard() -> str:
    """The Clickstream card: its script fills each ``data-slot`` from
    ``/api/clickstream/fragments``."""
    days = "".join(
        f'<option value="{n}"{" selected" if n == clickstream.DEFAULT_DAYS else ""}>'
        f"{n} day{'' if n == 1 else 's'}</option>"
        for n in clickstream.DAY_CHOICES
    )

    def slot(name: str, wide: bool = False) -> str:
        return f'<div class="slot{" wide" if wide else ""}" data-slot="{name}"></div>'

    return (
        '<section class="card" id="clickstream" aria-labelledby="clickstream-heading">'
        '<div class="card-head"><h2 id="clickstream-heading">Clickstream '
        '<span class="profile">· dashboard over the stream and the lake</span></h2>'
        f'<label>lake: the last <select id="clickstream-days">{days}</select></label></div>'
        '<p id="clickstream-error" class="alert" role="alert" hidden></p>'
        '<h3>In the stream <span class="profile">· one-minute windows, fresh within seconds'
        "</span></h3>"
        '<p data-slot="stream">loading…</p>'
        f'<div class="dash live">{slot("live_minutes")}{slot("live_purchases")}'
        f'<div class="stack">{slot("alerts")}{slot("collector")}</div></div>'
        '<h3>In the lake <span class="profile">· SQL over the crawled Parquet partitions'
        "</span></h3>"
        '<p data-slot="lake">loading…</p>'
        f'<div class="dash lake">{slot("traffic", wide=True)}{slot("top_pages")}{slot("funnel")}'
        f"{slot('purchases')}</div>"
        '<p class="footnote" data-slot="queries"></p>'
        "</section>"
    )
