"""The review's renderings: the documented JSON, SARIF 2.1.0 that validates against the OASIS
schema (waived findings as accepted suppressions), markdown and text."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema

from archlab.review.formats import document, markdown, render, sarif, text
from archlab.review.from_topology import from_topology
from archlab.review.model import PILLARS, SEVERITIES
from archlab.review.report import Review, review
from archlab.review.waivers import parse_waivers
from archlab.systems import available

SCHEMA = Path(__file__).parent / "fixtures" / "sarif" / "sarif-2.1.0-rtm.5.json"
"""The OASIS SARIF 2.1.0 schema, as the @microsoft/jest-sarif package ships it."""

WAIVER = """
- check: REL-SPOF
  resources: [car-backend]
  justification: the car queue holds claims while the instance is replaced
  expires: 2027-01-31
"""


def reviewed(system: str, profile: str, waivers: str = "") -> Review:
    arch = from_topology(available()[system].topology(profile))
    return review(arch, parse_waivers(waivers, "w.yaml"), today=dt.date(2026, 12, 7))


def test_the_json_document_has_findings_and_journeys_as_documented() -> None:
    doc = document([reviewed("storefront", "single"), reviewed("storefront", "ha")])
    assert doc["framework"].endswith("2024-06-27")
    for finding in doc["findings"]:
        assert set(finding) >= {
            "id",
            "pillar",
            "severity",
            "title",
            "resources",
            "best_practice",
            "remediation",
            "system",
            "profile",
        }
        assert finding["pillar"] in PILLARS and finding["severity"] in SEVERITIES
    single = [f for f in doc["findings"] if f["profile"] == "single"]
    assert {"REL-SPOF", "SEC-LB-WAF"} <= {f["id"] for f in single}
    journeys = {(j["profile"], j["name"]): j for j in doc["journeys"]}
    browse = journeys[("single", "browse the shop")]
    assert 0 < browse["availability"] < journeys[("ha", "browse the shop")]["availability"] < 1
    assert browse["weakest"] in {"web", "app", "database"}
    assert [r["open"]["high"] for r in doc["reviews"]] == [6, 0]
    json.dumps(doc)  # plain JSON all through


def test_sarif_output_validates_against_the_2_1_0_schema_with_waivers_as_suppressions() -> None:
    log = sarif([reviewed("purchases", "topic", WAIVER), reviewed("claims", "priority")])
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    (run,) = log["runs"]
    rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    suppressed = [r for r in run["results"] if r.get("suppressions")]
    assert len(suppressed) == 1
    assert suppressed[0]["ruleId"] == "REL-SPOF"
    assert suppressed[0]["suppressions"][0]["status"] == "accepted"
    assert "car queue" in suppressed[0]["suppressions"][0]["justification"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]] == result["ruleId"]
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels["PERF-PRIORITY-SHARED"] == "error" and levels["OPS-DLQ-ALARM"] == "warning"


def test_text_and_markdown_name_each_finding_its_fix_and_the_journeys() -> None:
    result = reviewed("storefront", "single")
    shown = text(result)
    assert shown.startswith("storefront (profile single): 11 open findings (6 high")
    assert "HIGH   SEC-LB-WAF" in shown and "fix: Associate an AWS WAF" in shown
    assert "browse the shop" in shown and "weakest:" in shown
    table = markdown(result)
    assert "| high | `REL-SPOF` | reliability | web |" in table
    assert "| Journey | Availability | Weakest link |" in table


def test_render_joins_reviews_in_every_format() -> None:
    reviews = [reviewed("images", "files"), reviewed("images", "blobs")]
    assert render(reviews, "text").count("open findings") == 2
    assert render(reviews, "markdown").count("## images") == 2
    assert len(json.loads(render(reviews, "json"))["reviews"]) == 2
    assert json.loads(render(reviews, "sarif"))["version"] == "2.1.0"
