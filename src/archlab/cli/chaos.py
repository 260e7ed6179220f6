"""``archlab chaos``: break what ``archlab up`` runs -- an instance, a whole zone -- and bring
a zone back. Each action is logged (``$ARCHLAB_HOME/chaos.log``) and printed as JSON."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from archlab import settings
from archlab.cli.inputs import fail, print_json
from archlab.runtime import chaos
from archlab.runtime.supervisor import read_state

chaos_app = typer.Typer(
    help="Break a running system on purpose: kill an instance or a zone.", no_args_is_help=True
)


def _running() -> dict[str, Any]:
    state = read_state(settings.home())
    if state is None:
        fail("archlab is not running here (start it with `archlab up`)")
    return state


@chaos_app.command("kill-instance")
def kill_instance(
    instance: Annotated[str, typer.Argument(help="An instance id from `archlab status`.")],
) -> None:
    """SIGKILL one instance: the load balancer routes around it, its group replaces it."""
    try:
        print_json(chaos.kill_instance(_running(), settings.home(), instance))
    except chaos.ChaosError as error:
        fail(str(error))


@chaos_app.command("kill-zone")
def kill_zone(zone: Annotated[str, typer.Argument(help="A zone, such as zone-a.")]) -> None:
    """Take a zone down: every process in it is SIGKILLed and nothing starts there again
    until `archlab chaos restore-zone`."""
    try:
        print_json(chaos.kill_zone(_running(), settings.home(), zone))
    except chaos.ChaosError as error:
        fail(str(error))


@chaos_app.command("restore-zone")
def restore_zone(zone: Annotated[str, typer.Argument(help="A zone that is down.")]) -> None:
    """Bring a zone back: groups rebalance into it."""
    try:
        print_json(chaos.restore_zone(_running(), settings.home(), zone))
    except chaos.ChaosError as error:
        fail(str(error))


@chaos_app.command("log")
def show_log(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many actions.")] = 20,
) -> None:
    """The latest chaos actions, oldest first."""
    print_json({"actions": chaos.history(settings.home(), limit)})
