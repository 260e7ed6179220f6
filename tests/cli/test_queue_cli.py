"""``archlab queue``: the README's walkthrough and the error contract (AWS code, exit 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from archlab.cli.main import app
from tests.cli.shell import run, runner


def queue(*args: str) -> Any:
    return run("queue", *args)


def test_poison_message_walkthrough(home: Path) -> None:
    queue("create", "orders-dlq")
    redrive = {"deadLetterTargetArn": "orders-dlq", "maxReceiveCount": 2}
    created = queue("create", "orders", "--attributes", json.dumps({"RedrivePolicy": redrive}))
    assert created == {"QueueUrl": "http://localhost/000000000000/orders"}
    sent = queue("send", "orders", "--message-body", "cannot be processed")
    for attempt in (1, 2):
        [message] = queue("receive", "orders", "--visibility-timeout", "0")["Messages"]
        assert message["Attributes"]["ApproximateReceiveCount"] == str(attempt)
    assert queue("receive", "orders")["Messages"] == []
    [moved] = queue("receive", "orders-dlq")["Messages"]
    assert moved["MessageId"] == sent["MessageId"]
    attributes = queue("get-attributes", "orders-dlq")["Attributes"]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"
    queue(
        "change-visibility",
        "orders-dlq",
        "--receipt-handle",
        moved["ReceiptHandle"],
        "--visibility-timeout",
        "0",
    )
    assert queue("redrive", "orders-dlq") == {"Moved": 1}
    [back] = queue("receive", "orders")["Messages"]
    assert back["MessageId"] == sent["MessageId"]
    assert queue("receive", "orders-dlq")["Messages"] == []
    queue("send", "orders-dlq", "--message-body", "straight in")
    [moved] = queue("receive", "orders-dlq")["Messages"]
    queue("delete-message", "orders-dlq", "--receipt-handle", moved["ReceiptHandle"])
    assert (
        queue("get-attributes", "orders-dlq")["Attributes"]["ApproximateNumberOfMessagesNotVisible"]
        == "0"
    )
    assert (home / "messaging.db").exists()


def test_list_send_receive_shapes() -> None:
    queue("create", "claims")
    assert queue("list") == {"QueueUrls": ["http://localhost/000000000000/claims"]}
    sent = queue("send", "claims", "--message-body", "hello")
    assert sent["MD5OfMessageBody"] == "5d41402abc4b2a76b9719d911017c592"
    [message] = queue("receive", "claims", "--max-number-of-messages", "10")["Messages"]
    assert set(message) == {
        "MessageId",
        "ReceiptHandle",
        "MD5OfBody",
        "Body",
        "Attributes",
        "MessageAttributes",
    }


def test_fifo_from_the_shell() -> None:
    queue("create", "claims.fifo", "--attributes", '{"FifoQueue": "true"}')
    for n in (1, 2):
        queue(
            "send",
            "claims.fifo",
            "--message-body",
            f"claim {n}",
            "--message-group-id",
            "car",
            "--message-deduplication-id",
            f"c{n}",
        )
    [first] = queue("receive", "claims.fifo", "--max-number-of-messages", "1")["Messages"]
    assert first["Body"] == "claim 1" and first["Attributes"]["MessageGroupId"] == "car"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["send", "missing", "--message-body", "x"], "AWS.SimpleQueueService.NonExistentQueue"),
        (["create", "bad name"], "InvalidParameterValue"),
        (["create", "q", "--attributes", '{"VisibilityTimeout": "-1"}'], "InvalidAttributeValue"),
        (["receive", "claims", "--max-number-of-messages", "11"], "InvalidParameterValue"),
        (["delete-message", "claims", "--receipt-handle", "nonsense"], "ReceiptHandleIsInvalid"),
    ],
)
def test_errors_start_with_the_aws_code(args: list[str], code: str) -> None:
    queue("create", "claims")
    result = runner.invoke(app, ["queue", *args])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"{code}: ") and result.stderr.count("\n") == 1


def test_bad_engine_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHLAB_MESSAGING_URL", "nosuch://x")
    result = runner.invoke(app, ["queue", "list"])
    assert result.exit_code == 1
    assert result.stderr.startswith("InvalidEngineUrl: ")
