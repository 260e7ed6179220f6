"""The console's review page: a system's drawing with its findings marked, and beside it the
findings (most severe first, each with its fix and best practice) and the user journeys'
composite availability, for any system and profile, running or not.

The page is drawn on the server from the same ``review`` the CLI prints, so the console and
``archlab review SYSTEM --profile P`` never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from archlab.console.page import STYLE
from archlab.review import diagram
from archlab.review.checks import FRAMEWORK
from archlab.review.formats import summary
from archlab.review.from_topology import from_topology
from archlab.review.model import Finding
from archlab.review.report import Review, review
from archlab.systems import System, available

REVIEW_STYLE = """
nav.systems { display: flex; flex-wrap: wrap; gap: 6px 14px; margin: 0 0 16px; }
nav.systems .system { display: flex; gap: 4px; align-items: baseline; }
nav.systems .name { font-weight: 600; margin-right: 2px; }
nav.systems a {
  padding: 1px 8px; border-radius: 10px; border: 1px solid var(--line); background: #fff;
  color: var(--ink); text-decoration: none; font-size: 13px;
}
nav.systems a[aria-current="page"] { background: #0969da; border-color: #0969da; color: #fff; }
nav.systems a.running::after { content: " ●"; color: var(--ok); }
nav.systems a[aria-current="page"].running::after { color: #fff; }
header a { color: #0969da; font-size: 13px; text-decoration: none; }
.reviewed { display: flex; flex-wrap: wrap; gap: 20px; align-items: flex-start; }
.reviewed .diagram { flex: 1 1 640px; min-width: 0; }
.reviewed aside { flex: 1 1 380px; max-width: 560px; }
.counts { display: flex; gap: 8px; margin: 6px 0 12px; }
.count { padding: 2px 10px; border-radius: 10px; font-size: 13px; font-weight: 600; }
.count.high { background: var(--alert-soft); color: var(--alert); }
.count.medium { background: var(--busy-soft); color: var(--busy); }
.count.low { background: #fff8c5; color: #7d4e00; }
ol.findings { list-style: none; padding: 0; margin: 0; }
ol.findings li {
  border: 1px solid var(--line); border-left: 4px solid var(--line); border-radius: 6px;
  padding: 8px 12px; margin-bottom: 8px;
}
ol.findings li.high { border-left-color: var(--alert); }
ol.findings li.medium { border-left-color: var(--busy); }
ol.findings li.low { border-left-color: #d4a72c; }
ol.findings li:target { box-shadow: 0 0 0 2px #ddf4ff; }
.finding-head { display: flex; gap: 8px; align-items: baseline; flex-wrap: wrap; }
.finding-head code { font-weight: 600; }
.finding-head .pillar { color: var(--muted); font-size: 12px; }
.finding-head .where { margin-left: auto; font-size: 12px; color: var(--muted); }
ol.findings p { margin: 4px 0 0; color: var(--ink); }
ol.findings p.fix { color: var(--muted); }
ol.findings p.practice { color: var(--muted); font-size: 12px; }
.journeys td:nth-child(3), .journeys th:nth-child(3) { text-align: left; }
"""


def review_page(running: dict[str, str], system: str | None, profile: str | None) -> str:
    """The page for ``system`` at ``profile`` (default: the first running system, else the
    first system, at the profile it runs or its default). ``running`` maps the systems that
    run to their profiles. An unknown system or profile raises ``LookupError``."""
    systems = available()
    chosen = system or next(iter(running), None) or next(iter(systems))
    if chosen not in systems:
        raise LookupError(f"no system called {chosen!r} (systems: {', '.join(systems)})")
    entry = systems[chosen]
    shown = profile or running.get(chosen) or entry.default_profile
    try:
        topology = entry.topology(shown)
    except ValueError as error:  # no such profile
        raise LookupError(str(error)) from None
    result = review(from_topology(topology))
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>archlab review · {escape(chosen)} · {escape(shown)}</title>
<style>{STYLE}{REVIEW_STYLE}</style>
</head>
<body>
<header><h1>archlab review</h1><a href="/">← console</a></header>
<main>
{_navigation(systems, running, chosen, shown)}
<section class="card">
<h2>{escape(chosen)} <span class="profile">· {escape(shown)} profile</span></h2>
<p>{escape(summary(result))}, against {escape(FRAMEWORK)}.
The same review as <code>archlab review {escape(chosen)} --profile {escape(shown)}</code>.</p>
<div class="reviewed">
<div class="diagram">{diagram.render(result.architecture, result.findings, standalone=False)}</div>
<aside>{_counts(result)}{_findings(result.findings)}{_journeys(result)}</aside>
</div>
</section>
</main>
</body>
</html>
"""


def _navigation(
    systems: Mapping[str, System], running: dict[str, str], chosen: str, shown: str
) -> str:
    groups = []
    for name, system in systems.items():
        links = []
        for profile in system.profiles:
            current = ' aria-current="page"' if (name, profile) == (chosen, shown) else ""
            live = ' class="running"' if running.get(name) == profile else ""
            title = " title='running'" if live else ""
            links.append(
                f'<a href="/review?system={escape(name)}&amp;profile={escape(profile)}"'
                f"{current}{live}{title}>{escape(profile)}</a>"
            )
        groups.append(
            f'<span class="system"><span class="name">{escape(name)}</span>{"".join(links)}</span>'
        )
    return f'<nav class="systems" aria-label="systems and profiles">{"".join(groups)}</nav>'


def _counts(result: Review) -> str:
    badges = "".join(
        f'<span class="count {severity}">{result.count(severity)} {severity}</span>'
        for severity in ("high", "medium", "low")
    )
    return f'<div class="counts">{badges}</div>'


def _findings(findings: tuple[Finding, ...]) -> str:
    if not findings:
        return '<p class="empty">No open findings.</p>'
    items = []
    for finding in findings:
        anchor = diagram.node_anchor(finding.resources[0])
        items.append(
            f'<li class="{finding.severity}">'
            f'<div class="finding-head"><code>{escape(finding.id)}</code>'
            f'<span class="pillar">{escape(finding.pillar)}</span>'
            f'<a class="where" href="#{escape(anchor)}">'
            f"{escape(', '.join(finding.resources))}</a></div>"
            f"<p>{escape(finding.title)}</p>"
            f'<p class="fix">Fix: {escape(finding.remediation)}</p>'
            f'<p class="practice">{escape(finding.best_practice)}</p></li>'
        )
    return f'<h3>Findings</h3><ol class="findings">{"".join(items)}</ol>'


def _journeys(result: Review) -> str:
    rows = "".join(
        f"<tr><td>{escape(j.name)}</td><td>{j.availability:.4%}</td>"
        f"<td>{escape(j.weakest)}</td></tr>"
        for j in result.journeys
    )
    return (
        '<h3>User journeys</h3><table class="journeys"><thead><tr><th>journey</th>'
        f"<th>availability</th><th>weakest link</th></tr></thead><tbody>{rows}</tbody></table>"
    )
