"""Every CLI test gets its own ARCHLAB_HOME, so the embedded engine starts empty."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ARCHLAB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ARCHLAB_MESSAGING_URL", raising=False)
    return tmp_path / "home"
