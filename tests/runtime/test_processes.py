"""The fork server the runtime starts its processes from: children start with what a run
preloads, even when an earlier run in the same process started the fork server without it."""

from __future__ import annotations

import sys

from archlab.runtime.processes import preload, start_process

MODULE = "tabnanny"
"""A module nothing else in archlab imports: in a child only if the fork server preloaded it."""


def _exit_with_whether_imported(module: str) -> None:
    sys.exit(0 if module in sys.modules else 3)


def _child_has(module: str) -> bool:
    child = start_process(_exit_with_whether_imported, (module,), "preload-probe")
    child.join(30)
    assert child.exitcode in (0, 3), child.exitcode
    return child.exitcode == 0


def test_a_later_run_gets_a_fork_server_that_preloaded_its_modules() -> None:
    preload([])
    assert not _child_has(MODULE)  # a fork server is running now, without it
    preload([MODULE])
    assert _child_has(MODULE)
    preload([])  # what is loaded already is enough: the server is kept
    assert _child_has(MODULE)
