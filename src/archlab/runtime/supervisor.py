"""The supervisor behind ``archlab up``: starts what each topology needs, keeps it running, and
stops it in order.

It provisions the topology's queues, topics and buses, starts a :class:`WorkerPool` for every
instance group fed by a queue and a host process for every function, then, once a second,
replaces processes that died, lets each autoscaled pool take a scaling decision from its queue's
backlog, and writes its state (``state.json`` under ARCHLAB_HOME) for ``archlab status`` and the
console. Stopping asks every process to finish the message in hand and waits for it.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from archlab import settings
from archlab.blocks import Queue as QueueBlock
from archlab.blocks.errors import MessagingError
from archlab.engines import connect
from archlab.engines.base import MessagingEngine
from archlab.engines.objectstore import ObjectEngine, connect_objects
from archlab.engines.streams import connect_streams
from archlab.engines.tables import connect_tables
from archlab.runtime import chaos
from archlab.runtime.autoscaling import Autoscaler
from archlab.runtime.balancers import BalancerProcess, balancer_spec, balancer_view
from archlab.runtime.functions import FunctionSpec, run_function_host
from archlab.runtime.handlers import load_handler
from archlab.runtime.instances import AutoScalingGroup
from archlab.runtime.processes import Supervised, preload
from archlab.runtime.provision import (
    needs_storage,
    provision,
    provision_storage,
    provision_streams,
    resource_name,
)
from archlab.runtime.services import Service, ServiceSpec
from archlab.runtime.workers import WorkerPool, WorkerSpec
from archlab.topology import (
    Api,
    Bucket,
    Database,
    EventBus,
    Function,
    InstanceGroup,
    LoadBalancer,
    Queue,
    Topic,
    Topology,
    Trigger,
)
from archlab.topology import Stream as StreamNode

log = logging.getLogger(__name__)
STATE_FILE = "state.json"


class FunctionHost(Supervised):
    """A function's host process."""

    kind = "fn"

    def __init__(self, spec: FunctionSpec, system: str) -> None:
        super().__init__(spec.name, run_function_host, (spec,))
        self.spec = spec
        self.system = system

    def state(self) -> dict[str, Any]:
        return {"function": self.spec.name, "system": self.system, **super().state()}


class Supervisor:
    def __init__(
        self,
        topologies: list[Topology],
        *,
        home: Path,
        messaging_url: str,
        endpoints: dict[str, str] | None = None,
        objects_url: str | None = None,
        tables_url: str | None = None,
        streams_url: str | None = None,
    ) -> None:
        """``objects_url``, ``tables_url`` and ``streams_url`` default to the settings';
        processes the supervisor starts find their engines from the settings too, so pass them
        only when the environment says the same."""
        self.topologies = topologies
        self.home = home
        self.messaging_url = messaging_url
        self.endpoints = dict(endpoints or {})
        self.engine: MessagingEngine = connect(messaging_url)
        self.objects_url = objects_url or settings.objects_url()
        self.tables_url = tables_url or settings.tables_url()
        self.streams_url = streams_url or settings.streams_url()
        self.pools: dict[str, tuple[str, WorkerPool]] = {}
        self.functions: list[FunctionHost] = []
        self.services: list[Service] = []
        self.groups: list[AutoScalingGroup] = []
        self.balancers: list[BalancerProcess] = []
        self.zones_down: set[str] = set()
        self.started = time.time()
        self.ready_at: float | None = None
        self.ready = threading.Event()
        """Set once everything started and the state file says so."""
        self._lock = threading.RLock()

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self, timeout: float = 30.0) -> None:
        """Provision and start everything; ready once every worker polls."""
        preload(sorted({m for t in self.topologies for m in _program_modules(t)}))
        for topology in self.topologies:
            provision(topology, self.engine)
            if topology.of_kind(StreamNode):
                provision_streams(topology, connect_streams(self.streams_url))
            if needs_storage(topology):
                provision_storage(
                    topology, self._objects_engine, connect_tables(self.tables_url), self.engine
                )
            self._migrate(topology)
            self._start_pools(topology)
            self._start_functions(topology)
            self._start_services(topology)
            self._start_groups(topology)
            self._start_balancers(topology)
        self._write_targets()
        deadline = time.monotonic() + timeout
        for name, (_, pool) in self.pools.items():
            if not pool.wait_ready(deadline):
                log.warning("%s: not every worker started; the supervisor will replace it", name)
        for service in self.services:
            if not service.wait_ready(deadline):
                log.warning("%s: the service did not start listening", service.spec.name)
        for group in self.groups:
            if not group.wait_listening(deadline):
                log.warning("%s: not every instance started listening", group.name)
        for balancer in self.balancers:
            if not balancer.wait_ready(deadline):
                log.warning("%s: the load balancer did not start listening", balancer.name)
        self.ready_at = time.time()
        self.write_state()
        self.ready.set()

    def _objects_engine(self, bucket: Bucket) -> ObjectEngine:
        database = bucket.storage == "database"
        return connect_objects(self.tables_url if database else self.objects_url)

    def _start_pools(self, topology: Topology) -> None:
        for group in topology.of_kind(InstanceGroup):
            feeds = topology.edges_to(group.id, "triggers")
            if not feeds or group.handler is None:
                continue
            edge = feeds[0]
            trigger = edge.trigger or Trigger(batch_size=1)
            spec = WorkerSpec(
                pool=resource_name(topology, group.id),
                handler=group.handler,
                queue=resource_name(topology, edge.source),
                messaging_url=self.messaging_url,
                batch_size=trigger.batch_size,
            )
            autoscaler = (
                Autoscaler(spec.pool, group.scaling, group.min_size, group.max_size)
                if group.scaling
                else None
            )
            pool = WorkerPool(
                spec,
                min_size=group.min_size,
                max_size=group.max_size,
                zones=group.zones or topology.profile.zones,
                autoscaler=autoscaler,
            )
            pool.start()
            self.pools[spec.pool] = (topology.system, pool)

    def _start_functions(self, topology: Topology) -> None:
        for function in topology.of_kind(Function):
            queue_triggers = []
            stream_triggers = []
            pushed = False
            for edge in topology.edges_to(function.id):
                source = topology.node(edge.source)
                if isinstance(source, Queue) and edge.kind == "triggers":
                    name = resource_name(topology, source.id)
                    queue_triggers.append((name, edge.trigger or Trigger()))
                elif isinstance(source, StreamNode) and edge.kind == "triggers":
                    name = resource_name(topology, source.id)
                    stream_triggers.append((name, edge.trigger or Trigger(batch_size=100)))
                elif isinstance(source, Topic | EventBus | Bucket):
                    pushed = True
            host = FunctionHost(
                FunctionSpec(
                    name=resource_name(topology, function.id),
                    handler=function.handler,
                    messaging_url=self.messaging_url,
                    queue_triggers=tuple(queue_triggers),
                    stream_triggers=tuple(stream_triggers),
                    streams_url=self.streams_url,
                    pushed=pushed,
                    schedule_s=function.schedule_s,
                ),
                topology.system,
            )
            host.start()
            self.functions.append(host)

    def _start_services(self, topology: Topology) -> None:
        for api in topology.of_kind(Api):
            if api.app is None:
                continue
            service = Service(ServiceSpec(api.id, api.app, api.port), topology.system)
            service.start()
            self.services.append(service)
            self.endpoints[api.id] = service.spec.url

    def _migrate(self, topology: Topology) -> None:
        """Bring each database's schema up to date before anything uses it."""
        for database in topology.of_kind(Database):
            if database.schema_migration:
                log.info("%s: migrating %s", topology.system, database.id)
                load_handler(database.schema_migration)()

    def _start_groups(self, topology: Topology) -> None:
        for node in topology.of_kind(InstanceGroup):
            if node.app is None:
                continue
            group = AutoScalingGroup(
                name=resource_name(topology, node.id),
                tier=node.id,
                system=topology.system,
                app=node.app,
                zones=node.zones or topology.profile.zones,
                min_size=node.min_size,
                max_size=node.max_size,
                desired=node.initial_size,
                health_check=node.health_check,
                scaling=node.request_scaling,
                environment=tuple(sorted(node.environment.items())),
            )
            group.start(self.zones_down)
            self.groups.append(group)

    def _start_balancers(self, topology: Topology) -> None:
        for node in topology.of_kind(LoadBalancer):
            spec = balancer_spec(topology, node, self.home)
            balancer = BalancerProcess(spec, topology.system, node.id, node.placement == "public")
            balancer.start()
            self.balancers.append(balancer)
            self.endpoints[node.id] = balancer.url

    def _write_targets(self) -> None:
        by_name = {group.name: group for group in self.groups}
        for balancer in self.balancers:
            balancer.write_targets({name: by_name[name].targets() for name in balancer.groups})

    def step(self) -> None:
        """Replace dead processes, autoscale, and write the state."""
        with self._lock:
            self.zones_down = chaos.zones_down(self.home)
            for group in self.groups:
                group.step(self.zones_down, balancer_view(self.balancers, group.name))
            self._write_targets()
            for _, pool in self.pools.values():
                pool.zones_down = self.zones_down
                pool.reap()
                if pool.autoscaler is not None:
                    visible = self.engine.queue_metrics(pool.spec.queue)
                    pool.scale(visible["ApproximateNumberOfMessages"])
            for child in [*self.functions, *self.services, *self.balancers]:
                child.restart_if_dead()
        self.write_state()

    def run(self, stop: threading.Event, interval: float = 1.0) -> None:
        """Start, then step every ``interval`` seconds until ``stop`` is set; then shut down."""
        try:
            self.start()
            while not stop.wait(interval):
                self.step()
        finally:
            self.shutdown()

    def shutdown(self, timeout: float = 10.0) -> None:
        with self._lock:
            for balancer in self.balancers:  # first: stop taking requests, finish those taken
                balancer.stop(timeout)
            for group in self.groups:
                group.stop(timeout)
            for _, pool in self.pools.values():
                pool.stop(timeout)
            for child in [*self.functions, *self.services]:
                child.stop(timeout)
        (self.home / STATE_FILE).unlink(missing_ok=True)
        self.engine.close()

    # --- state ---------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """What ``archlab status`` and the console show (the documented state shape)."""
        with self._lock:
            return self._snapshot()

    def _snapshot(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "started": self.started,
            "ready_at": self.ready_at,
            "messaging_url": self.messaging_url,
            "endpoints": self.endpoints,
            "systems": {
                t.system: {"profile": t.profile.name, "topology": json.loads(t.to_json(None))}
                for t in self.topologies
            },
            "queues": {
                resource_name(t, q.id): {
                    "system": t.system,
                    "node": q.id,
                    "dead_letter": resource_name(t, q.dead_letter) if q.dead_letter else None,
                }
                for t in self.topologies
                for q in t.of_kind(Queue)
            },
            "pools": [{"system": system, **pool.state()} for system, pool in self.pools.values()],
            "functions": [host.state() for host in self.functions],
            "services": [service.state() for service in self.services],
            "groups": [group.state() for group in self.groups],
            "instances": [i for group in self.groups for i in group.instance_states()],
            "balancers": [balancer.state() for balancer in self.balancers],
            "zones_down": sorted(self.zones_down),
            "workers": [
                {"pool": name, "system": system, **worker.state()}
                for name, (system, pool) in self.pools.items()
                for worker in pool.workers
            ],
        }

    def write_state(self) -> None:
        """Atomically: readers never see half a file."""
        self.home.mkdir(parents=True, exist_ok=True)
        target = self.home / STATE_FILE
        scratch = target.with_suffix(".tmp")
        scratch.write_text(json.dumps(self.snapshot(), default=str), encoding="utf-8")
        scratch.replace(target)


def _program_modules(topology: Topology) -> set[str]:
    """The modules of the apps and handlers a topology runs (``package.module:callable``)."""
    programs: list[str | None] = []
    for node in topology.nodes:
        if isinstance(node, Api | InstanceGroup):
            programs.append(node.app)
        if isinstance(node, InstanceGroup | Function):
            programs.append(node.handler)
    return {program.partition(":")[0] for program in programs if program}


@contextmanager
def supervised(topologies: list[Topology], home: Path, messaging_url: str) -> Iterator[Supervisor]:
    """A supervisor running in a background thread for the duration of the block, ready when
    the block starts (tests and benchmarks; ``archlab up`` adds the terminal and the console)."""
    supervisor = Supervisor(topologies, home=home, messaging_url=messaging_url)
    stop = threading.Event()
    thread = threading.Thread(target=supervisor.run, args=(stop,), name="supervisor")
    thread.start()
    try:
        while not supervisor.ready.wait(0.05):
            if not thread.is_alive():
                raise RuntimeError("the supervisor stopped before it was ready")
        yield supervisor
    finally:
        stop.set()
        thread.join()


def queue_status(engine: MessagingEngine, state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Live metrics of the queues a running supervisor declared, with dead-letter counts."""
    result: dict[str, dict[str, Any]] = {}
    for name, info in state.get("queues", {}).items():
        try:
            metrics = QueueBlock(engine, name).attributes()
        except MessagingError:  # a queue removed by hand: show it as gone, not crash the view
            result[name] = {**info, "missing": True}
            continue
        dead = info.get("dead_letter")
        dead_count = None
        if dead:
            dead_count = int(QueueBlock(engine, dead).attributes()["ApproximateNumberOfMessages"])
        result[name] = {
            **info,
            "visible": int(metrics["ApproximateNumberOfMessages"]),
            "in_flight": int(metrics["ApproximateNumberOfMessagesNotVisible"]),
            "delayed": int(metrics["ApproximateNumberOfMessagesDelayed"]),
            "oldest_age_s": int(metrics["ApproximateAgeOfOldestMessage"]),
            "dead_letter_visible": dead_count,
        }
    return result


def read_state(home: Path) -> dict[str, Any] | None:
    """The running supervisor's state, or None when none is running."""
    try:
        state: dict[str, Any] = json.loads((home / STATE_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    try:
        os.kill(int(state["pid"]), 0)
    except (ProcessLookupError, PermissionError, KeyError, ValueError):
        return None
    return state
