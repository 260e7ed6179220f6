"""``archlab queue``: SQS verbs on the configured messaging engine, with AWS-shaped output.

Errors print one line starting with AWS's error code and exit with status 1, as the AWS CLI's
service errors do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Annotated, Any

import typer

from archlab.blocks import Message, Queue
from archlab.blocks.queue import ACCOUNT, queue_name
from archlab.cli.engine import messaging_engine
from archlab.cli.inputs import MessageAttributesOption, json_option, print_json

queue_app = typer.Typer(
    help="Queues with Amazon SQS semantics (embedded by default, under ARCHLAB_HOME).",
    no_args_is_help=True,
    add_completion=False,
)

NameArgument = Annotated[str, typer.Argument(help="The queue's name, ARN or URL.")]


def _url(name: str) -> str:
    return f"http://localhost/{ACCOUNT}/{queue_name(name)}"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


@queue_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="The new queue's name.")],
    attributes: Annotated[
        str | None,
        typer.Option(help='Queue attributes as JSON or @FILE, e.g. {"VisibilityTimeout": "60"}.'),
    ] = None,
) -> None:
    """Create a queue (or find it, if it exists with the same attributes)."""
    with messaging_engine() as engine:
        queue = Queue.create(engine, name, json_option(attributes, "--attributes") or {})
        print_json({"QueueUrl": _url(queue.name)})


@queue_app.command("delete")
def delete_queue(name: NameArgument) -> None:
    """Delete a queue and every message in it."""
    with messaging_engine() as engine:
        engine.delete_queue(queue_name(name))


@queue_app.command("list")
def list_queues(
    prefix: Annotated[str, typer.Option("--queue-name-prefix", help="Only names with it.")] = "",
) -> None:
    """List queues: {"QueueUrls": [...]}."""
    with messaging_engine() as engine:
        print_json({"QueueUrls": [_url(name) for name in engine.list_queues(prefix)]})


@queue_app.command("send")
def send(
    name: NameArgument,
    message_body: Annotated[str, typer.Option(help="The message body.")],
    delay_seconds: Annotated[int | None, typer.Option(help="0 to 900 seconds.")] = None,
    priority: Annotated[
        int | None, typer.Option(help="0 to the queue's MaxPriority; higher is received first.")
    ] = None,
    message_group_id: Annotated[
        str | None, typer.Option(help="FIFO queues: messages of a group arrive in order.")
    ] = None,
    message_deduplication_id: Annotated[
        str | None, typer.Option(help="FIFO queues: repeats within 5 minutes are dropped.")
    ] = None,
    message_attributes: MessageAttributesOption = None,
) -> None:
    """Send a message: {"MessageId": ..., "MD5OfMessageBody": ...}."""
    with messaging_engine() as engine:
        message_id = Queue(engine, name).send(
            message_body,
            delay_seconds=delay_seconds,
            message_attributes=json_option(message_attributes, "--message-attributes"),
            priority=priority,
            group_id=message_group_id,
            deduplication_id=message_deduplication_id,
        )
        print_json({"MessageId": message_id, "MD5OfMessageBody": _md5(message_body)})


@queue_app.command("receive")
def receive(
    name: NameArgument,
    max_number_of_messages: Annotated[int, typer.Option(help="1 to 10.")] = 1,
    wait_time_seconds: Annotated[
        int | None, typer.Option(help="Long polling: wait up to 20 s for a message.")
    ] = None,
    visibility_timeout: Annotated[
        int | None, typer.Option(help="Seconds the messages stay hidden from other receivers.")
    ] = None,
) -> None:
    """Receive messages: {"Messages": [...]} (an empty list when there are none)."""
    with messaging_engine() as engine:
        messages = Queue(engine, name).receive(
            max_number_of_messages,
            visibility_timeout=visibility_timeout,
            wait_seconds=wait_time_seconds,
        )
        print_json({"Messages": [_shape(message) for message in messages]})


def _shape(message: Message) -> dict[str, Any]:
    return {
        "MessageId": message.message_id,
        "ReceiptHandle": message.receipt_handle,
        "MD5OfBody": _md5(message.body),
        "Body": message.body,
        "Attributes": message.attributes,
        "MessageAttributes": message.message_attributes,
    }


@queue_app.command("delete-message")
def delete_message(
    name: NameArgument,
    receipt_handle: Annotated[str, typer.Option(help="From the receive that got the message.")],
) -> None:
    """Delete a received message."""
    _with_queue(name, lambda queue: queue.delete(receipt_handle))


@queue_app.command("change-visibility")
def change_visibility(
    name: NameArgument,
    receipt_handle: Annotated[str, typer.Option(help="From the receive that got the message.")],
    visibility_timeout: Annotated[int, typer.Option(help="New timeout from now, in seconds.")],
) -> None:
    """Hide a received message for longer, or (with 0) make it visible again now."""
    _with_queue(name, lambda queue: queue.change_visibility(receipt_handle, visibility_timeout))


@queue_app.command("purge")
def purge(name: NameArgument) -> None:
    """Delete every message in the queue (once a minute at most)."""
    _with_queue(name, Queue.purge)


@queue_app.command("redrive")
def redrive(
    name: Annotated[str, typer.Argument(help="The dead-letter queue to empty.")],
    max_per_second: Annotated[int, typer.Option(help="Messages moved per second, 1 to 500.")] = 500,
    destination: Annotated[
        str | None, typer.Option(help="Move here instead of back to each message's source.")
    ] = None,
) -> None:
    """Move a dead-letter queue's messages back to their source queues: {"Moved": N}."""
    with messaging_engine() as engine:
        moved = Queue(engine, name).redrive(
            destination=destination,
            max_per_second=max_per_second,
            progress=lambda total: typer.echo(f"moved {total}", err=True),
        )
        print_json({"Moved": moved})


@queue_app.command("get-attributes")
def get_attributes(name: NameArgument) -> None:
    """Attributes and approximate metrics: {"Attributes": {...}}."""
    with messaging_engine() as engine:
        print_json({"Attributes": Queue(engine, name).attributes()})


def _with_queue(name: str, action: Callable[[Queue], None]) -> None:
    with messaging_engine() as engine:
        action(Queue(engine, name))
