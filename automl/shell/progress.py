"""Showing a fit's progress on the command line.

The estimator logs one line per model to the ``automl`` logger, and each of those records carries
its ``progress`` fields (``automl.models.training``). On a terminal, a live bar (models done / planned, best OOF score so far,
time left) is redrawn under the log lines; elsewhere (a file, a pipe, a CI log) the lines are
printed as they come, since carriage returns would only garble them.
"""
from __future__ import annotations

import logging
import shutil
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TextIO

LOGGER = "automl"
# How often the bar is redrawn so its clock keeps moving while a slow model trains.
REFRESH_SECONDS = 0.5


@dataclass(frozen=True)
class Progress:
    """Where a fit stands after one configuration (the ``progress`` fields of its log record)."""

    done: int
    planned: int
    model: str
    metric: str
    best_score: float | None  # best single-model OOF score so far; None before any model finished


class PlainLines(logging.Handler):
    """Each log record as one timestamped line."""

    def __init__(self, stream: TextIO):
        super().__init__(logging.INFO)
        self.stream = stream
        self.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        self.stream.write(self.format(record) + "\n")
        self.stream.flush()


class LiveBar(PlainLines):
    """Log lines scroll above a bar that a background thread redraws in place."""

    def __init__(self, stream: TextIO, time_limit: float | None):
        super().__init__(stream)
        self.time_limit = time_limit
        self.start = time.monotonic()
        self.state: Progress | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, daemon=True)

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock:
            fields = getattr(record, "progress", None)
            self.state = Progress(**fields) if fields is not None else self.state
            self._clear()
            super().emit(record)
            self._draw()

    def begin(self) -> None:
        self._thread.start()

    def end(self) -> None:
        self._stop.set()
        self._thread.join()
        with self._lock:
            self._clear()

    def _tick(self) -> None:
        while not self._stop.wait(REFRESH_SECONDS):
            with self._lock:
                self._draw()

    def _clear(self) -> None:
        self.stream.write("\r\033[K")

    def _draw(self) -> None:
        self.stream.write("\r" + self.line(shutil.get_terminal_size().columns))
        self.stream.flush()

    def line(self, width: int) -> str:
        """The bar and its figures, cut to ``width`` characters."""
        done, planned = (self.state.done, self.state.planned) if self.state else (0, 0)
        elapsed = time.monotonic() - self.start
        clock = (f"{max(0.0, self.time_limit - elapsed):.0f}s left" if self.time_limit
                 else f"{elapsed:.0f}s elapsed")
        best = ""
        if self.state and self.state.best_score is not None:
            best = f" | best {self.state.metric} {self.state.best_score:.5f}"
        cells = 24
        filled = round(cells * done / planned) if planned else 0
        text = f"[{'#' * filled}{'.' * (cells - filled)}] {done}/{planned or '?'} models{best} | {clock}"
        return text[:max(width - 1, 0)]


@contextmanager
def show_progress(quiet: bool, time_limit: float | None, stream: TextIO | None = None):
    """Shows the ``automl`` log while the block runs: a live bar on a terminal, plain lines
    otherwise, nothing when ``quiet``."""
    if quiet:
        yield
        return
    stream = stream or sys.stderr
    handler = LiveBar(stream, time_limit) if stream.isatty() else PlainLines(stream)
    logger = logging.getLogger(LOGGER)
    logger.addHandler(handler)
    if isinstance(handler, LiveBar):
        handler.begin()
    try:
        yield
    finally:
        if isinstance(handler, LiveBar):
            handler.end()
        logger.removeHandler(handler)
