"""Building blocks with AWS semantics, over engines chosen by URL."""

from archlab.blocks.queue import Message, Queue

__all__ = ["Message", "Queue"]
