"""The console's one HTML page: the systems' diagrams, the queue and pool tables, inline CSS
and a small vanilla script.

Everything is in the page itself — no build step, no framework, no CDN — so the console works
offline and on a fresh machine, and what it shows can be read in this one file. The diagrams
come from :mod:`archlab.console.diagram`; the script polls ``/api/state`` once a second and
rewrites numbers in place (no reload, so nothing flickers and a scrolled page stays put).
"""

from __future__ import annotations

from html import escape
from typing import Any

from archlab.console.diagram import render
from archlab.topology import Topology

POLL_MS = 1000

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
  const pools = new Set(state.pools.map((pool) => pool.pool));
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


def page(state: dict[str, Any]) -> str:
    """The whole page for the systems the supervisor's ``state`` names."""
    systems = state.get("systems", {})
    sections = [_system(name, system) for name, system in systems.items()]
    if not sections:
        sections = ['<section class="card"><p class="empty">No system is running.</p></section>']
    script = SCRIPT.replace("POLL_MS", str(POLL_MS))
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>archlab console</title>
<style>{STYLE}</style>
</head>
<body>
<header><h1>archlab console</h1><span id="status">connecting…</span></header>
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


def _system(name: str, system: dict[str, Any]) -> str:
    topology = Topology.model_validate(system["topology"])
    return (
        f'<section class="card system" data-system="{escape(name)}">'
        f'<h2>{escape(name)} <span class="profile">· {escape(system["profile"])} profile</span>'
        f"</h2><p>{escape(topology.description)}</p>"
        f'<div class="diagram">{render(topology)}</div></section>'
    )
