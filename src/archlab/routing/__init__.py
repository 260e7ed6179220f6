"""Content-based routing: EventBridge event patterns, SNS filter policies and rule indexes.

Pure computation, no I/O. Everything here agrees with the AWS documentation and with the
conformance cases recorded against the real services.
"""

from archlab.routing.errors import (
    InvalidEvent,
    InvalidEventPattern,
    InvalidFilterPolicy,
    RoutingError,
)
from archlab.routing.eventpattern import EventPattern
from archlab.routing.filterpolicy import FilterPolicy
from archlab.routing.ruleset import RuleSet

__all__ = [
    "EventPattern",
    "FilterPolicy",
    "InvalidEvent",
    "InvalidEventPattern",
    "InvalidFilterPolicy",
    "RoutingError",
    "RuleSet",
]
