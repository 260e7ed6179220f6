"""Where archlab keeps its data and which engines it uses, from the environment.

``ARCHLAB_HOME`` (default ``./.archlab``) holds the embedded engines' files;
``ARCHLAB_MESSAGING_URL`` chooses the messaging engine (default: SQLite under the home),
``ARCHLAB_OBJECTS_URL`` the object store (default: files under the home) and
``ARCHLAB_TABLES_URL`` the key-value tables (default: SQLite under the home). Objects a
topology keeps in its database (a bucket node with ``storage="database"``) live in the tables'
database.
"""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    return Path(os.environ.get("ARCHLAB_HOME", ".archlab"))


def messaging_url() -> str:
    # sqlite:///relative/path, or sqlite:////absolute/path: the path follows the third slash.
    return os.environ.get("ARCHLAB_MESSAGING_URL") or f"sqlite:///{home() / 'messaging.db'}"


def objects_url(storage: str = "object-store") -> str:
    """Where a bucket's objects live: the object store, or (``storage="database"``) the
    tables' database."""
    if storage == "database":
        return tables_url()
    return os.environ.get("ARCHLAB_OBJECTS_URL") or f"file:///{home() / 'objects'}"


def tables_url() -> str:
    return os.environ.get("ARCHLAB_TABLES_URL") or f"sqlite:///{home() / 'tables.db'}"


def streams_url() -> str:
    return os.environ.get("ARCHLAB_STREAMS_URL") or f"sqlite:///{home() / 'streams.db'}"
