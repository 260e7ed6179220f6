"""``archlab topic``: SNS verbs on the configured messaging engine, with AWS-shaped output."""

from __future__ import annotations

from typing import Annotated

import typer

from archlab.blocks import Topic
from archlab.blocks.topic import topic_arn
from archlab.cli.engine import messaging_engine
from archlab.cli.inputs import MessageAttributesOption, json_option, print_json

topic_app = typer.Typer(
    help="Topics with Amazon SNS semantics: fan-out to queues, HTTP endpoints and functions,"
    " filter policies.",
    no_args_is_help=True,
    add_completion=False,
)

TopicArgument = Annotated[str, typer.Argument(help="The topic's name or ARN.")]


@topic_app.command("create")
def create(name: Annotated[str, typer.Argument(help="The new topic's name.")]) -> None:
    """Create a topic (or find it): {"TopicArn": ...}."""
    with messaging_engine() as engine:
        print_json({"TopicArn": Topic.create(engine, name).arn})


@topic_app.command("list")
def list_topics() -> None:
    """List topics: {"Topics": [{"TopicArn": ...}]}."""
    with messaging_engine() as engine:
        print_json({"Topics": [{"TopicArn": topic_arn(name)} for name in engine.list_topics()]})


@topic_app.command("subscribe")
def subscribe(
    topic: TopicArgument,
    notification_endpoint: Annotated[
        str, typer.Option(help="A queue's name or ARN, a URL, or a function's name or ARN.")
    ],
    protocol: Annotated[str, typer.Option(help="sqs, http, https or lambda.")] = "sqs",
    attributes: Annotated[
        str | None,
        typer.Option(
            help="FilterPolicy, FilterPolicyScope, RawMessageDelivery, RedrivePolicy,"
            " DeliveryPolicy (http/https), as JSON or @FILE."
        ),
    ] = None,
) -> None:
    """Subscribe an endpoint: {"SubscriptionArn": ...}. HTTP and function deliveries are made
    by `archlab deliver`."""
    with messaging_engine() as engine:
        arn = Topic(engine, topic).subscribe(
            protocol, notification_endpoint, json_option(attributes, "--attributes") or {}
        )
        print_json({"SubscriptionArn": arn})


@topic_app.command("unsubscribe")
def unsubscribe(
    subscription_arn: Annotated[str, typer.Argument(help="From subscribe or list-subscriptions.")],
) -> None:
    """Remove a subscription."""
    topic = subscription_arn.rsplit(":", 1)[0]
    with messaging_engine() as engine:
        Topic(engine, topic).unsubscribe(subscription_arn)


@topic_app.command("list-subscriptions")
def list_subscriptions(topic: TopicArgument) -> None:
    """A topic's subscriptions: {"Subscriptions": [...]}."""
    with messaging_engine() as engine:
        print_json({"Subscriptions": Topic(engine, topic).subscriptions()})


@topic_app.command("publish")
def publish(
    topic: TopicArgument,
    message: Annotated[str, typer.Option(help="The message.")],
    subject: Annotated[str | None, typer.Option(help="A subject for the envelope.")] = None,
    message_attributes: MessageAttributesOption = None,
) -> None:
    """Publish to every matching subscription: {"MessageId": ...}."""
    with messaging_engine() as engine:
        message_id = Topic(engine, topic).publish(
            message,
            subject=subject,
            message_attributes=json_option(message_attributes, "--message-attributes"),
        )
        print_json({"MessageId": message_id})
