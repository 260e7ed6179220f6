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


def test_deliver_hosts_functions_for_function_subscriptions() -> None:
    from tests.cli import functions

    run("topic", "create", "purchases")
    run(
        "topic",
        "subscribe",
        "purchases",
        "--protocol",
        "lambda",
        "--notification-endpoint",
        "audit",
    )
    run("topic", "publish", "purchases", "--message", "a car policy")
    functions.received.clear()
    spec = "audit=tests.cli.functions:record"
    assert run("deliver", "--function", spec, "--no-http", "--once") == {"Attempted": 1}
    assert functions.received[0]["Records"][0]["Sns"]["Message"] == "a car policy"
    assert run("deliver", "--function", spec, "--once") == {"Attempted": 0}


def test_deliver_names_a_bad_function_spec() -> None:
    for spec, problem in [
        ("audit", "expected package.module:callable"),
        ("bad name=tests.cli.functions:record", "is not a function"),
        ("audit=tests.cli.nowhere:record", "cannot import tests.cli.nowhere"),
        ("audit=tests.cli.functions:missing", "has no 'missing'"),
        ("audit=tests.cli.functions:not_callable", "is not callable"),
    ]:
        result = runner.invoke(app, ["deliver", "--function", spec, "--once"])
        assert result.exit_code == 2, spec
        assert problem in result.stderr
    result = runner.invoke(app, ["deliver", "--no-http", "--once"])
    assert result.exit_code == 2 and "nothing to deliver" in result.stderr
