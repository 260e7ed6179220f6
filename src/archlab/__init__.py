"""archlab: the classic cloud system designs made real, runnable, breakable and reviewable."""

__version__ = "0.1.0"
