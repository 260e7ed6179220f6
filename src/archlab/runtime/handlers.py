"""Handlers are named by import path (``package.module:callable``) so that any process --
a worker, a function host, ``archlab deliver`` -- can load the same code."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def load_handler(path: str) -> Callable[..., Any]:
    """The callable ``path`` names; ValueError saying what is wrong otherwise."""
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"{path!r}: expected package.module:callable")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"{path!r}: cannot import {module_name}: {error}") from None
    handler = getattr(module, attribute, None)
    if handler is None:
        raise ValueError(f"{path!r}: {module_name} has no {attribute!r}")
    if not callable(handler):
        raise ValueError(f"{path!r}: {module_name}.{attribute} is not callable")
    return handler  # type: ignore[no-any-return]
