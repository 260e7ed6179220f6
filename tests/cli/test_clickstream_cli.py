"""``archlab clickstream generate|flush`` and ``archlab crawl``: synthetic traffic onto the
stream or straight into the delivery stream, delivered on demand, crawled, then asked with SQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.shell import app, runner


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ARCHLAB_HOME", str(tmp_path))
    monkeypatch.delenv("ARCHLAB_STOREFRONT_DATABASE_URL", raising=False)
    monkeypatch.delenv("ARCHLAB_STREAMS_URL", raising=False)
    return tmp_path


def run(*arguments: str) -> dict[str, object]:
    result = runner.invoke(app, list(arguments))
    assert result.exit_code == 0, result.output
    answer: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def count_events(where: str = "") -> int:
    result = runner.invoke(
        app, ["sql", f"SELECT count(*) AS n FROM clickstream.events {where}", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    return int(json.loads(result.stdout)[0]["n"])


@pytest.mark.parametrize("into", ["stream", "delivery"])
def test_generated_traffic_is_flushed_crawled_and_queried(home: Path, into: str) -> None:
    generated = run("clickstream", "generate", "--events", "3000", "--days", "2", "--into", into)
    assert generated["Generated"] == 3000 and generated["Refused"] == 0
    flushed = run("clickstream", "flush")
    assert flushed["Delivered"] == 3000 and flushed["Failed"] == 0
    assert flushed["Buffered"] == (3000 if into == "stream" else 0)
    crawled = run("crawl", "--json")
    partitions = crawled["PartitionsAdded"]
    assert isinstance(partitions, dict) and partitions["events"] >= 24  # two days of hours
    assert crawled["TablesCreated"] == ["events"]
    assert count_events() == 3000
    # flushing again delivers nothing twice; crawling again adds nothing
    assert run("clickstream", "flush")["Delivered"] == 0
    assert run("crawl", "--json")["PartitionsAdded"] == {}
    assert count_events() == 3000


def test_the_same_seed_makes_the_same_traffic(home: Path) -> None:
    run("clickstream", "generate", "--events", "500", "--seed", "3", "--into", "delivery")
    run("clickstream", "generate", "--events", "500", "--seed", "3", "--into", "delivery")
    run("clickstream", "flush")
    run("crawl", "--json")
    result = runner.invoke(
        app,
        ["sql", "SELECT count(DISTINCT event_id) AS n FROM clickstream.events", "-f", "json"],
    )
    assert json.loads(result.stdout)[0]["n"] == 500


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--events", "0"], "--events"),
        (["--days", "0"], "--days"),
        (["--days", "5000"], "--days is at most 3650"),
        (["--into", "lake"], "--into"),
    ],
)
def test_bad_options_are_refused_and_nothing_is_made(
    home: Path, arguments: list[str], message: str
) -> None:
    result = runner.invoke(app, ["clickstream", "generate", *arguments])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (home / "clickstream" / "lake").exists()


def test_sql_before_the_first_crawl_says_what_to_do(home: Path) -> None:
    result = runner.invoke(app, ["sql", "SELECT count(*) FROM clickstream.events"])
    assert result.exit_code == 2
    assert "run `archlab crawl`" in result.output
    assert "Traceback" not in result.output
