"""``archlab events``, ``archlab sns`` and ``archlab route``: the routing engine from the shell."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, TextIO

import typer

from archlab.cli.inputs import fail, print_json, read_json, read_text
from archlab.routing import (
    EventPattern,
    FilterPolicy,
    InvalidEvent,
    InvalidEventPattern,
    InvalidFilterPolicy,
    RuleSet,
)
from archlab.routing.filterpolicy import SCOPES

events_app = typer.Typer(
    help="EventBridge event patterns.", no_args_is_help=True, add_completion=False
)
sns_app = typer.Typer(help="SNS filter policies.", no_args_is_help=True, add_completion=False)

JSON_OR_FILE = "JSON text, or @FILE to read it from a file."


@events_app.command("test-pattern")
def test_pattern(
    event_pattern: Annotated[
        str, typer.Option("--event-pattern", help=f"The pattern: {JSON_OR_FILE}")
    ],
    event: Annotated[str, typer.Option("--event", help=f"The event: {JSON_OR_FILE}")],
) -> None:
    """Test whether an event matches a pattern, like `aws events test-event-pattern`.

    Prints {"Result": true} or {"Result": false}; an invalid pattern or event exits with 2.
    """
    try:
        pattern = EventPattern(read_text(event_pattern, "--event-pattern"))
    except InvalidEventPattern as error:
        fail(f"--event-pattern: invalid event pattern: {error}")
    try:
        result = pattern.matches(read_text(event, "--event"))
    except InvalidEvent as error:
        fail(f"--event: {error}")
    print_json({"Result": result})


@sns_app.command("test-filter")
def test_filter(
    filter_policy: Annotated[
        str, typer.Option("--filter-policy", help=f"The filter policy: {JSON_OR_FILE}")
    ],
    scope: Annotated[
        str, typer.Option("--scope", help="MessageAttributes (the default) or MessageBody.")
    ] = "MessageAttributes",
    message: Annotated[
        str, typer.Option("--message", help="The message body: text or @FILE.")
    ] = "",
    message_attributes: Annotated[
        str | None,
        typer.Option(
            "--message-attributes",
            help='Attributes in the SNS shape, e.g. {"coverage": {"DataType": "String",'
            f' "StringValue": "car"}}: {JSON_OR_FILE}',
        ),
    ] = None,
) -> None:
    """Test whether SNS would deliver a message to a subscription with this filter policy.

    Prints {"Result": true} or {"Result": false}; an invalid policy or attributes exit with 2.
    """
    if scope not in SCOPES:
        fail(f"--scope: must be one of {', '.join(SCOPES)}, got {scope!r}")
    try:
        policy = FilterPolicy(read_text(filter_policy, "--filter-policy"), scope)
    except InvalidFilterPolicy as error:
        fail(f"--filter-policy: invalid filter policy: {error}")
    attributes = None
    if message_attributes is not None:
        attributes = read_json(message_attributes, "--message-attributes")
    try:
        result = policy.matches(read_text(message, "--message"), attributes)
    except InvalidEvent as error:
        fail(f"--message-attributes: {error}")
    print_json({"Result": result})


def route(
    rules: Annotated[
        str,
        typer.Option(
            "--rules", help=f"An object mapping rule names to event patterns: {JSON_OR_FILE}"
        ),
    ],
    input_file: Annotated[
        str, typer.Option("--input", help="A file of JSON events, one per line; - for stdin.")
    ] = "-",
) -> None:
    """Route a stream of events through a set of rules.

    Writes one line per input line: {"line": N, "rules": [matching rule names, sorted]}, or
    {"line": N, "error": "..."} for a line that is not a JSON object (the stream goes on).
    Blank lines are skipped.
    """
    definitions = read_json(rules, "--rules")
    if not isinstance(definitions, dict) or not definitions:
        fail("--rules: must be a non-empty JSON object mapping rule names to event patterns")
    compiled = {}
    for name, pattern in definitions.items():
        if not isinstance(pattern, (dict, str)):
            fail(f"--rules: rule {name!r}: a pattern must be a JSON object")
        try:
            compiled[name] = EventPattern(pattern)
        except InvalidEventPattern as error:
            fail(f"--rules: rule {name!r}: invalid event pattern: {error}")
    rule_set = RuleSet(compiled)
    if input_file == "-":
        _route_lines(rule_set, sys.stdin)
        return
    try:
        with Path(input_file).open(encoding="utf-8") as lines:
            _route_lines(rule_set, lines)
    except FileNotFoundError:
        fail(f"--input: no such file: {input_file}")
    except IsADirectoryError:
        fail(f"--input: {input_file} is a directory, not a file")
    except UnicodeDecodeError as error:
        fail(f"--input: {input_file} is not UTF-8 text: {error.reason}")


def _route_lines(rule_set: RuleSet, lines: TextIO) -> None:
    write = sys.stdout.write
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            result: dict[str, object] = {"line": number, "rules": rule_set.matches(line)}
        except InvalidEvent as error:
            result = {"line": number, "error": str(error)}
        write(json.dumps(result) + "\n")
