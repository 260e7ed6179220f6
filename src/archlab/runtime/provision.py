"""Create what a topology declares -- queues (dead-letter queues first), topics with their
subscriptions, buses with their rules and targets -- on a messaging engine. Idempotent: running
it again on the same engine finds everything in place."""

from __future__ import annotations

from archlab.blocks import EventBus
from archlab.blocks import Queue as QueueBlock
from archlab.blocks import Topic as TopicBlock
from archlab.blocks.queue import queue_arn
from archlab.blocks.topic import function_arn
from archlab.engines.base import MessagingEngine
from archlab.topology import Edge, Function, Queue, Topic, Topology
from archlab.topology import EventBus as EventBusNode


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
