"""Building blocks with AWS semantics, over engines chosen by URL."""

from archlab.blocks.bucket import Bucket
from archlab.blocks.bus import EventBus
from archlab.blocks.queue import Message, Queue
from archlab.blocks.table import Table
from archlab.blocks.topic import Topic

__all__ = ["Bucket", "EventBus", "Message", "Queue", "Table", "Topic"]
