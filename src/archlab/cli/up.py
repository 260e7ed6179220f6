"""``archlab up`` runs systems under the supervisor; ``archlab status`` shows what is running."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from typing import Annotated, Any

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from archlab import settings
from archlab.cli.inputs import fail, print_json
from archlab.console import create_app, serve
from archlab.engines import connect
from archlab.runtime.services import port_free
from archlab.runtime.supervisor import Supervisor, queue_status, read_state
from archlab.systems import available
from archlab.topology import Api, LoadBalancer, Topology


def choose(systems: list[str] | None, profile: str | None) -> list[Topology]:
    """The topologies to run: the named systems (all when none is named) in ``profile`` (each
    system's default when not given)."""
    known = available()
    names = systems or list(known)
    topologies = []
    for name in names:
        if name not in known:
            fail(f"no system {name!r} (systems: {', '.join(known)})")
        system = known[name]
        if profile is not None and profile not in system.profiles and systems:
            fail(f"{name} has no profile {profile!r} (profiles: {', '.join(system.profiles)})")
        chosen = profile if profile in system.profiles else None
        topologies.append(system.topology(chosen))
    return topologies


def up(
    systems: Annotated[
        list[str] | None, typer.Argument(help="Systems to run (default: every system).")
    ] = None,
    profile: Annotated[
        str | None, typer.Option(help="The deployment profile (default: each system's own).")
    ] = None,
    console_port: Annotated[
        int, typer.Option(help="Serve the console on 127.0.0.1 at this port (0: any free one).")
    ] = 8080,
    console: Annotated[bool, typer.Option(help="Serve the web console.")] = True,
) -> None:
    """Run systems: provision their queues, topics and buses, start their workers and functions,
    and keep them running (crashed processes are replaced, pools autoscale) until Ctrl-C."""
    topologies = choose(systems, profile)
    for topology in topologies:
        for api in topology.of_kind(Api):
            if api.app is not None and not port_free(api.port):
                fail(f"{topology.system}: port {api.port} for {api.id} is in use")
        for balancer in topology.of_kind(LoadBalancer):
            if not port_free(balancer.port):
                fail(f"{topology.system}: port {balancer.port} for {balancer.id} is in use")
    home = settings.home()
    running = read_state(home)
    if running is not None:
        fail(f"archlab is already running here (pid {running['pid']}); stop it first")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    supervisor = Supervisor(topologies, home=home, messaging_url=settings.messaging_url())
    server = None
    if console:
        if not 0 <= console_port <= 65535:
            fail(f"--console-port must be from 0 to 65535, got {console_port}")
        app = create_app(supervisor.snapshot, supervisor.messaging_url, home)
        try:
            server, server_thread = serve(app, port=console_port)
        except OSError as error:
            fail(f"cannot serve the console on 127.0.0.1:{console_port}: {error.strerror}")
        supervisor.endpoints["console"] = f"http://127.0.0.1:{server.config.port}"
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    started = time.monotonic()
    worker = threading.Thread(target=supervisor.run, args=(stop,), name="supervisor")
    worker.start()
    terminal = Console(stderr=True)
    while not supervisor.ready.wait(0.05) and worker.is_alive():
        pass
    if not worker.is_alive():
        if server is not None:
            server.should_exit = True
        raise typer.Exit(1)
    names = ", ".join(f"{t.system} ({t.profile.name})" for t in topologies)
    terminal.print(
        f"[bold green]ready[/] in {time.monotonic() - started:.1f} s: {names}."
        " `archlab status` shows the state; Ctrl-C stops."
    )
    for name, url in supervisor.endpoints.items():
        terminal.print(f"{name}: {url}")
    try:
        if terminal.is_terminal:
            with Live(console=terminal, refresh_per_second=1) as live:
                while worker.is_alive() and not stop.wait(1):
                    live.update(_summary(supervisor.snapshot(), supervisor))
        else:
            while worker.is_alive() and not stop.wait(1):
                pass
    except KeyboardInterrupt:
        pass
    stop.set()
    terminal.print("stopping: workers finish the message in hand...")
    worker.join()
    if server is not None:
        server.should_exit = True
        server_thread.join()
    terminal.print("stopped")


def _summary(state: dict[str, Any], supervisor: Supervisor) -> Group:
    return Group(*_tables(state, queue_status(supervisor.engine, state)))


def _tables(state: dict[str, Any], queues: dict[str, dict[str, Any]]) -> list[Table]:
    queue_table = Table(title="queues", expand=False)
    for column in ("queue", "visible", "in flight", "delayed", "oldest s", "dead letters"):
        queue_table.add_column(column, justify="left" if column == "queue" else "right")
    for name, q in queues.items():
        if q.get("missing"):
            queue_table.add_row(name, "[red]missing[/]", "", "", "", "")
            continue
        dead = q["dead_letter_visible"]
        queue_table.add_row(
            name,
            str(q["visible"]),
            str(q["in_flight"]),
            str(q["delayed"]),
            str(q["oldest_age_s"]),
            "" if dead is None else (f"[red]{dead}[/]" if dead else "0"),
        )
    pool_table = Table(title="worker pools", expand=False)
    for column in ("pool", "workers", "busy", "processed", "restarts", "min-max"):
        pool_table.add_column(column, justify="left" if column == "pool" else "right")
    for pool in state["pools"]:
        workers = pool["workers"]
        pool_table.add_row(
            pool["pool"],
            str(len(workers)),
            str(sum(w["busy"] for w in workers)),
            str(sum(w["processed"] for w in workers)),
            str(pool["restarts"]),
            f"{pool['min']}-{pool['max']}",
        )
    tables = [queue_table, pool_table]
    if state.get("instances"):
        tables.append(_instance_table(state))
    return tables


def _instance_table(state: dict[str, Any]) -> Table:
    down = set(state.get("zones_down", []))
    title = "instances" + (f" (down: {', '.join(sorted(down))})" if down else "")
    table = Table(title=title, expand=False)
    for column in ("instance", "tier", "zone", "pid", "health", "in flight", "requests"):
        table.add_column(column, justify="right" if column in ("pid", "requests") else "left")
    colours = {"healthy": "green", "unhealthy": "red", "initial": "yellow"}
    for instance in sorted(state["instances"], key=lambda i: (i["tier"], i["zone"], i["id"])):
        health = "draining" if instance["lifecycle"] == "draining" else instance["health"]
        table.add_row(
            instance["id"],
            instance["tier"],
            instance["zone"],
            str(instance["pid"]),
            f"[{colours.get(health, 'blue')}]{health}[/]",
            str(instance["outstanding"]),
            str(instance["requests"]),
        )
    return table


def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print the state as JSON.")] = False,
) -> None:
    """What `archlab up` is running: systems, queues (visible, in flight, delayed, oldest age,
    dead letters), worker pools and their workers, HTTP instances by tier and zone with their
    health, load balancers, and endpoints."""
    state = read_state(settings.home())
    if state is None:
        if as_json:
            print_json({"running": False})
        else:
            typer.echo("archlab is not running here (start it with `archlab up`)")
        return
    engine = connect(state["messaging_url"])
    try:
        queues = queue_status(engine, state)
    finally:
        engine.close()
    if as_json:
        print_json(
            {
                "running": True,
                "pid": state["pid"],
                "started": state["started"],
                "systems": {
                    name: {"profile": system["profile"]}
                    for name, system in state["systems"].items()
                },
                "queues": queues,
                "pools": [{k: v for k, v in p.items() if k != "workers"} for p in state["pools"]],
                "workers": state["workers"],
                "functions": state["functions"],
                "services": state.get("services", []),
                "instances": state.get("instances", []),
                "groups": state.get("groups", []),
                "balancers": state.get("balancers", []),
                "zones_down": state.get("zones_down", []),
                "endpoints": state["endpoints"],
            }
        )
        return
    console = Console()
    systems = ", ".join(f"{n} ({s['profile']})" for n, s in state["systems"].items())
    console.print(f"running (pid {state['pid']}): {systems}")
    for table in _tables(state, queues):
        console.print(table)
    for name, url in state["endpoints"].items():
        console.print(f"{name}: {url}")
