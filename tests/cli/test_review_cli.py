"""``archlab review`` and ``archlab diagram`` as a user runs them: every system, a template,
the formats, --fail-on, waivers, and clear errors for mistakes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archlab.cli.main import app

runner = CliRunner()
FIXTURES = Path(__file__).parents[1] / "review" / "fixtures" / "cloudformation"


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_review_without_arguments_reviews_every_system_at_its_default_profile() -> None:
    code, out, _ = invoke("review", "--format", "json")
    assert code == 0
    reviewed = {(r["system"], r["profile"]) for r in json.loads(out)["reviews"]}
    assert reviewed == {
        ("storefront", "ha"),
        ("purchases", "topic"),
        ("claims", "two-queues"),
        ("images", "files"),
        ("clickstream", "lake"),
    }


def test_fail_on_high_fails_the_fragile_profile_and_passes_the_resilient_one() -> None:
    code, out, _ = invoke("review", "storefront", "--profile", "single", "--fail-on", "high")
    assert code == 1 and "HIGH   REL-SPOF" in out
    code, _, _ = invoke("review", "storefront", "--profile", "ha", "--fail-on", "high")
    assert code == 0
    code, _, _ = invoke("review", "storefront", "--profile", "ha", "--fail-on", "medium")
    assert code == 1


def test_all_profiles_reviews_each_profile() -> None:
    code, out, _ = invoke("review", "claims", "--all-profiles", "--format", "json")
    assert code == 0
    assert [r["profile"] for r in json.loads(out)["reviews"]] == ["two-queues", "priority"]


def test_a_template_is_reviewed_with_its_unknown_types_listed() -> None:
    code, out, _ = invoke("review", "--template", str(FIXTURES / "unknown_types.yaml"))
    assert code == 0
    assert "Not reviewed" in out and "AWS::StepFunctions::StateMachine" in out


def test_a_waiver_file_waives_and_sarif_carries_the_suppression(tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "- check: SEC-HTTPS\n  justification: TLS ends at the CDN\n  expires: 2099-12-31\n"
    )
    code, out, _ = invoke(
        "review", "storefront", "-p", "ha", "--waivers", str(waivers), "--format", "sarif"
    )
    assert code == 0
    results = json.loads(out)["runs"][0]["results"]
    assert [r["ruleId"] for r in results if r.get("suppressions")] == ["SEC-HTTPS"]


def test_a_load_adds_the_monthly_cost() -> None:
    code, out, _ = invoke(
        "review", "purchases", "-p", "topic", "--load", "messages=10e6", "--format", "json"
    )
    assert code == 0
    assert json.loads(out)["reviews"][0]["monthly_cost_usd"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["review", "nosuch"], "no system called nosuch"),
        (["review", "storefront", "-p", "triple"], "storefront has no profile 'triple'"),
        (["review", "--format", "yaml"], "--format: expected one of"),
        (["review", "--fail-on", "critical"], "--fail-on: expected one of high, medium, low"),
        (["review", "--template", "missing.yaml"], "missing.yaml"),
        (["review", "--waivers", "missing.yaml"], "cannot read the waiver file"),
        (["review", "--load", "messages=lots"], "--load: load messages is not a number"),
        (["review", "--today", "tomorrow"], "--today: expected a date"),
        (["diagram", "storefront"], "--output"),
        (["diagram", "-o", "x.svg"], "give a SYSTEM or --template FILE"),
        (["diagram", "storefront", "-o", "x.png"], "the drawing is SVG"),
    ],
)
def test_a_mistake_is_one_clear_line_and_no_traceback(args: list[str], message: str) -> None:
    code, out, err = invoke(*args)
    assert code == 2
    assert message in err and "Traceback" not in err + out


def test_diagram_writes_an_svg_with_the_findings_marked(tmp_path: Path) -> None:
    target = tmp_path / "storefront.svg"
    code, out, _ = invoke("diagram", "storefront", "--profile", "single", "-o", str(target))
    assert code == 0 and str(target) in out
    svg = target.read_text()
    assert svg.startswith("<svg") or svg.startswith("<?xml")
    assert "REL-SPOF" in svg and "zone-a" in svg


def test_diagram_draws_a_template(tmp_path: Path) -> None:
    target = tmp_path / "fragile.svg"
    template = FIXTURES / "three_tier_fragile.yaml"
    code, _, _ = invoke("diagram", "--template", str(template), "-o", str(target))
    assert code == 0 and "SEC-DB-PUBLIC" in target.read_text()
