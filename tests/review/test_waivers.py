"""Waivers: a justified, dated acceptance of a finding; wrong files are refused with the
file, the entry and the field named; an expired waiver stops applying."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from archlab.review.from_topology import from_topology
from archlab.review.report import review
from archlab.review.waivers import WaiverError, load_waivers, parse_waivers
from archlab.systems import available

TOPIC = from_topology(available()["purchases"].topology("topic"))

WAIVERS = """
waivers:
  - check: REL-SPOF
    system: purchases
    profile: topic
    resources: [car-backend, home-backend]
    justification: one backend per coverage; its queue holds the work while it is replaced
    expires: 2027-03-31
  - check: OPS-DLQ-ALARM
    justification: the console shows dead-letter depth
    expires: 2026-01-31
"""


def test_a_waiver_moves_its_findings_aside_until_its_expiry_day_inclusive() -> None:
    waivers = parse_waivers(WAIVERS, "waivers.yaml")
    on_the_day = review(TOPIC, waivers, today=dt.date(2027, 3, 31))
    waived = sorted(w.finding.resources for w in on_the_day.waived)
    assert waived == [("car-backend",), ("home-backend",)]
    assert all(w.waiver.justification.startswith("one backend") for w in on_the_day.waived)
    open_spof = [f.resources for f in on_the_day.findings if f.id == "REL-SPOF"]
    assert ("car-backend",) not in open_spof and ("pet-backend",) in open_spof
    after = review(TOPIC, waivers, today=dt.date(2027, 4, 1))
    assert after.waived == ()
    assert {w.check for w in after.expired} == {"REL-SPOF", "OPS-DLQ-ALARM"}
    assert len([f for f in after.findings if f.id == "REL-SPOF"]) == 5


def test_an_expired_waiver_is_reported_and_applies_to_nothing() -> None:
    result = review(TOPIC, parse_waivers(WAIVERS, "w.yaml"), today=dt.date(2026, 12, 7))
    assert [w.source for w in result.expired] == ["w.yaml, waiver 2 (OPS-DLQ-ALARM)"]
    assert len([f for f in result.findings if f.id == "OPS-DLQ-ALARM"]) == 5


def test_a_waiver_for_another_system_or_profile_does_not_apply() -> None:
    waivers = parse_waivers(WAIVERS.replace("profile: topic", "profile: bus"), "w.yaml")
    assert [w.finding.id for w in review(TOPIC, waivers, today=dt.date(2027, 1, 1)).waived] == []


def test_json_waiver_files_and_a_bare_list_are_read(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    path.write_text(
        '[{"check": "SEC-HTTPS", "justification": "TLS ends at the CDN", "expires": "2027-06-30"}]'
    )
    (waiver,) = load_waivers(path)
    assert (waiver.check, waiver.expires) == ("SEC-HTTPS", dt.date(2027, 6, 30))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("waivers: [", "w.yaml: not valid YAML"),
        ("check: REL-SPOF", "expected a list of waivers"),
        ("- check: REL-NOPE\n  justification: x\n  expires: 2027-01-01", "no check is called"),
        ("- check: REL-SPOF\n  expires: 2027-01-01", "waiver 1 (REL-SPOF): field 'justification'"),
        ("- check: REL-SPOF\n  justification: x\n  expires: soon", "field 'expires'"),
        ("- check: REL-SPOF\n  justification: x\n  expires: 2027-01-01\n  until: 1", "until"),
        (
            "- check: REL-SPOF\n  justification: x\n  expires: 2027-01-01\n  resources: 3",
            "field 'resources'",
        ),
        ("- 7", "waiver 1: expected a mapping"),
    ],
)
def test_a_bad_waiver_file_names_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(WaiverError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_waivers(text, "w.yaml")


def test_an_unreadable_waiver_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WaiverError, match="cannot read"):
        load_waivers(tmp_path / "missing.yaml")


def test_the_example_waiver_file_accepts_the_topic_backends_until_mid_2027() -> None:
    example = Path(__file__).parents[2] / "examples" / "review" / "waivers.yaml"
    result = review(TOPIC, load_waivers(example), today=dt.date(2026, 12, 7))
    assert sorted(w.finding.resources[0] for w in result.waived) == [
        f"{coverage}-backend" for coverage in ("car", "home", "life", "pet", "travel")
    ]
    assert not [f for f in result.findings if f.id == "REL-SPOF"]
