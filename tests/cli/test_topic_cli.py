"""``archlab topic``: the purchases fan-out from the shell."""

from __future__ import annotations

import json

from archlab.cli.main import app
from tests.cli.shell import run, runner


def test_fan_out_from_the_shell() -> None:
    created = run("topic", "create", "purchases")
    assert created == {"TopicArn": "arn:aws:sns:us-east-1:000000000000:purchases"}
    for coverage in ("car", "home"):
        run("queue", "create", coverage)
        policy = {"FilterPolicy": {"coverage": [coverage]}, "RawMessageDelivery": "true"}
        subscribed = run(
            "topic",
            "subscribe",
            "purchases",
            "--notification-endpoint",
            coverage,
            "--attributes",
            json.dumps(policy),
        )
        assert subscribed["SubscriptionArn"].startswith(created["TopicArn"] + ":")
    car = json.dumps({"coverage": {"DataType": "String", "StringValue": "car"}})
    assert "MessageId" in run(
        "topic", "publish", "purchases", "--message", "a car policy", "--message-attributes", car
    )
    assert [m["Body"] for m in run("queue", "receive", "car")["Messages"]] == ["a car policy"]
    assert run("queue", "receive", "home")["Messages"] == []
    assert len(run("topic", "list-subscriptions", "purchases")["Subscriptions"]) == 2
    assert run("topic", "list") == {"Topics": [{"TopicArn": created["TopicArn"]}]}


def test_errors_start_with_the_aws_code() -> None:
    result = runner.invoke(app, ["topic", "publish", "missing", "--message", "x"])
    assert result.exit_code == 1 and result.stderr.startswith("NotFound: ")
    run("topic", "create", "purchases")
    result = runner.invoke(
        app, ["topic", "subscribe", "purchases", "--notification-endpoint", "nowhere"]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("AWS.SimpleQueueService.NonExistentQueue: ")
