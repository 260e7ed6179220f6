"""Where archlab keeps its data and which engines it uses, from the environment.

``ARCHLAB_HOME`` (default ``./.archlab``) holds the embedded engines' files;
``ARCHLAB_MESSAGING_URL`` chooses the messaging engine (default: SQLite under the home).
"""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    return Path(os.environ.get("ARCHLAB_HOME", ".archlab"))


def messaging_url() -> str:
    url = os.environ.get("ARCHLAB_MESSAGING_URL")
    if url:
        return url
    # sqlite:///relative/path, or sqlite:////absolute/path: the path follows the third slash.
    return f"sqlite:///{home() / 'messaging.db'}"
