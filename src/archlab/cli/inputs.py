"""Reading command-line arguments that hold JSON text or ``@file`` references."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

MessageAttributesOption = Annotated[
    str | None,
    typer.Option(
        "--message-attributes",
        help='As JSON or @FILE: {"name": {"DataType": "String", "StringValue": "x"}}.',
    ),
]
"""The --message-attributes option of the commands that send or publish."""


def fail(message: str) -> NoReturn:
    """A user mistake: one line on stderr, exit status 2, no traceback."""
    typer.echo(f"archlab: error: {message}", err=True)
    raise typer.Exit(2)


def read_text(argument: str, option: str) -> str:
    """The argument itself, or the contents of the file it names after an ``@``."""
    if not argument.startswith("@"):
        return argument
    path = Path(argument[1:])
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"{option}: no such file: {path}")
    except IsADirectoryError:
        fail(f"{option}: {path} is a directory, not a file")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"{option}: cannot read {path}: {error}")


def read_json(argument: str, option: str) -> Any:
    text = read_text(argument, option)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        fail(f"{option}: not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})")


def json_option(value: str | None, option: str) -> Any:
    """An optional JSON-or-@file option: None when absent."""
    return None if value is None else read_json(value, option)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value) + "\n")
