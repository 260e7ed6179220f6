"""``archlab bus``: rules to a queue, events, archive and replay from the shell."""

from __future__ import annotations

import json

from archlab.cli.main import app
from tests.cli.shell import run, runner


def test_rule_to_queue_archive_and_replay() -> None:
    run("queue", "create", "cars")
    arn = run("bus", "put-rule", "cars", "--event-pattern", '{"detail": {"coverage": ["car"]}}')
    assert arn == {"RuleArn": "arn:aws:events:us-east-1:000000000000:rule/cars"}
    run(
        "bus",
        "put-targets",
        "--rule",
        "cars",
        "--targets",
        '[{"Id": "q", "Arn": "arn:aws:sqs:us-east-1:000000000000:cars", "InputPath": "$.detail"}]',
    )
    run("bus", "archive", "all")
    entries = [
        {
            "Source": "archlab.storefront",
            "DetailType": "PolicyPurchased",
            "Detail": json.dumps({"coverage": c}),
        }
        for c in ("car", "home")
    ]
    result = run("bus", "put-events", "--entries", json.dumps(entries))
    assert result["FailedEntryCount"] == 0 and len(result["Entries"]) == 2
    [message] = run("queue", "receive", "cars")["Messages"]
    assert json.loads(message["Body"]) == {"coverage": "car"}
    run("queue", "delete-message", "cars", "--receipt-handle", message["ReceiptHandle"])
    replayed = run(
        "bus",
        "replay",
        "all",
        "--event-start-time",
        "2000-01-01T00:00:00Z",
        "--event-end-time",
        "2100-01-01T00:00:00Z",
    )
    assert replayed == {"Replayed": 2}
    assert len(run("queue", "receive", "cars")["Messages"]) == 1


def test_errors_start_with_the_aws_code() -> None:
    result = runner.invoke(app, ["bus", "put-rule", "r", "--event-pattern", '{"a": "x"}'])
    assert result.exit_code == 1 and result.stderr.startswith("InvalidEventPatternException: ")
    result = runner.invoke(
        app,
        [
            "bus",
            "put-events",
            "--event-bus-name",
            "nope",
            "--entries",
            '[{"Source": "s", "DetailType": "d", "Detail": "{}"}]',
        ],
    )
    assert result.exit_code == 1 and result.stderr.startswith("ResourceNotFoundException: ")
