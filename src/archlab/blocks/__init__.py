"""Building blocks with AWS semantics, over engines chosen by URL."""

from archlab.blocks.bus import EventBus
from archlab.blocks.queue import Message, Queue
from archlab.blocks.topic import Topic

__all__ = ["EventBus", "Message", "Queue", "Topic"]
