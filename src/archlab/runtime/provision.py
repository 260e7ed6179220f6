"""Create what a topology declares -- queues (dead-letter queues first), topics with their
subscriptions, buses with their rules and targets on a messaging engine; buckets with their
event notifications and tables on the storage engines. Idempotent: running it again on the same
engines finds everything in place."""

from __future__ import annotations

from collections.abc import Callable

from archlab.blocks import EventBus
from archlab.blocks import Queue as QueueBlock
from archlab.blocks import Topic as TopicBlock
from archlab.blocks.bucket import Bucket
from archlab.blocks.queue import queue_arn
from archlab.blocks.stream import Stream
from archlab.blocks.table import Table
from archlab.blocks.topic import function_arn
from archlab.engines.base import MessagingEngine
from archlab.engines.objectstore import ObjectEngine
from archlab.engines.streams import StreamEngine
from archlab.engines.tables import TableEngine
from archlab.topology import Bucket as BucketNode
from archlab.topology import Edge, Function, Queue, Topic, Topology
from archlab.topology import EventBus as EventBusNode
from archlab.topology import Stream as StreamNode
from archlab.topology import Table as TableNode


def resource_name(topology: Topology, node_id: str) -> str:
    """The engine resource a node becomes: the system's name, then the node's id."""
    return f"{topology.system}-{node_id}"


def provision(topology: Topology, engine: MessagingEngine) -> None:
    queues = topology.of_kind(Queue)
    dead_letters = {q.dead_letter for q in queues if q.dead_letter}
    for queue in sorted(queues, key=lambda q: q.id not in dead_letters):
        attributes: dict[str, object] = dict(queue.attributes)
        if queue.dead_letter:
            attributes["RedrivePolicy"] = {
                "deadLetterTargetArn": queue_arn(resource_name(topology, queue.dead_letter)),
                "maxReceiveCount": queue.max_receive_count,
            }
        QueueBlock.create(engine, resource_name(topology, queue.id), attributes)
    for topic in topology.of_kind(Topic):
        block = TopicBlock.create(engine, resource_name(topology, topic.id))
        for edge in topology.edges_from(topic.id):
            if edge.kind in ("subscribes", "triggers"):
                _subscribe(topology, block, edge)
    for bus in topology.of_kind(EventBusNode):
        bus_block = EventBus.create(engine, resource_name(topology, bus.id))
        for edge in topology.edges_from(bus.id, "subscribes"):
            rule = edge.rule or edge.target
            bus_block.put_rule(rule, edge.event_pattern or {})
            bus_block.put_targets(rule, [{"Id": edge.target, "Arn": _arn(topology, edge.target)}])


def _subscribe(topology: Topology, topic: TopicBlock, edge: Edge) -> None:
    target = topology.node(edge.target)
    attributes: dict[str, object] = {}
    if edge.filter_policy:
        attributes["FilterPolicy"] = edge.filter_policy
    if isinstance(target, Function):
        topic.subscribe("lambda", resource_name(topology, target.id), attributes)
        return
    attributes["RawMessageDelivery"] = "true" if edge.raw_delivery else "false"
    topic.subscribe("sqs", resource_name(topology, target.id), attributes)


def _arn(topology: Topology, node_id: str) -> str:
    name = resource_name(topology, node_id)
    if isinstance(topology.node(node_id), Function):
        return function_arn(name)
    return queue_arn(name)


def needs_storage(topology: Topology) -> bool:
    return bool(topology.of_kind(BucketNode) or topology.of_kind(TableNode))


def provision_storage(
    topology: Topology,
    objects: Callable[[BucketNode], ObjectEngine],
    tables: TableEngine,
    messaging: MessagingEngine,
) -> None:
    """Create the topology's tables, and its buckets (each on the engine ``objects`` gives
    for it) with their object-created notifications (an edge ``publishes`` to a queue, or
    ``triggers`` a function)."""
    for table in topology.of_kind(TableNode):
        Table.create(
            tables,
            resource_name(topology, table.id),
            partition_key=table.partition_key,
            sort_key=table.sort_key,
        )
    for node in topology.of_kind(BucketNode):
        name = resource_name(topology, node.id)
        bucket = Bucket.create(objects(node), name, messaging=messaging)
        queues, functions = [], []
        for edge in topology.edges_from(node.id):
            entry: dict[str, object] = {"Events": ["s3:ObjectCreated:*"]}
            if edge.key_prefix:
                rules = [{"Name": "prefix", "Value": edge.key_prefix}]
                entry["Filter"] = {"Key": {"FilterRules": rules}}
            if edge.kind == "publishes" and isinstance(topology.node(edge.target), Queue):
                queues.append({**entry, "QueueArn": _arn(topology, edge.target)})
            elif edge.kind == "triggers" and isinstance(topology.node(edge.target), Function):
                functions.append({**entry, "LambdaFunctionArn": _arn(topology, edge.target)})
        if queues or functions:
            bucket.put_notification_configuration(
                {"QueueConfigurations": queues, "LambdaFunctionConfigurations": functions}
            )


def provision_streams(topology: Topology, engine: StreamEngine) -> None:
    """Create the topology's streams (kept, with their records, when they exist)."""
    for stream in topology.of_kind(StreamNode):
        Stream.create(engine, resource_name(topology, stream.id), stream.shards, exist_ok=True)
