"""Answers other than success, as RFC 9457 problem details (``application/problem+json``): the
``Problem`` that any layer under the routes raises, the body it is answered with, and that
body's schema for OpenAPI. Bad input lists its faults in ``errors``, as ``{field, message}``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import Response

from archlab.systems.storefront import bodies

PROBLEM = "application/problem+json"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class Problem(Exception):
    """An answer other than success, as RFC 9457 describes it."""

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str,
        errors: Iterable[FieldError] = (),
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.title = title
        self.detail = detail
        self.errors = tuple(errors)


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {
        "type": f"tag:archlab.dev,2026:storefront/{problem.kind}",
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
    }
    if problem.errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in problem.errors]
    return Response(bodies.dumps(body), problem.status, headers, media_type=PROBLEM)


def not_found(what: str, identifier: str) -> Problem:
    return Problem(404, "not-found", f"No such {what}", f"there is no {what} {identifier!r}")
