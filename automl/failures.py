"""What happens when a component fails: it is logged and skipped, never the end of a fit.

A model, a next-layer model, a search trial or a member's refit that raises is skipped with a
log line, because one library's failure on one table must not cost the user the whole fit. But a
programming error (a ``TypeError`` in new code) skipped the same way looks like a bad model and a
log line nobody reads. Strict mode (``AUTOML_STRICT=1``, set by the test suite) re-raises those.
"""
from __future__ import annotations

import os

STRICT = "AUTOML_STRICT"
# Errors that mean the code is wrong, not that a model failed on the data.
PROGRAMMING_ERRORS = (TypeError, AttributeError, NameError, AssertionError)


class StrictModeError(BaseException):
    """A programming error raised through every handler that skips failures (a BaseException, as
    KeyboardInterrupt is, so that no ``except Exception`` on the way, Optuna's included, keeps it)."""


def raise_if_strict(exc: BaseException) -> None:
    """Raises ``StrictModeError`` from ``exc`` when strict mode is on and ``exc`` is a programming
    error; else returns, and the caller logs and skips."""
    if os.environ.get(STRICT) == "1" and isinstance(exc, PROGRAMMING_ERRORS):
        raise StrictModeError(f"{type(exc).__name__}: {exc}") from exc
