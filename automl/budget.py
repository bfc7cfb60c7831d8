"""TimeBudget: the one place that does time arithmetic for a fit."""
from __future__ import annotations

import math
import time


class TimeBudget:
    """A deadline on the monotonic clock.

    ``limit=None`` means no limit: ``remaining()`` is infinite and nothing ever expires.
    Budgets nest: ``sub(seconds)`` returns a budget that ends at the earlier of its own
    deadline and its parent's, so a model can never outlive the fit that started it.
    """

    def __init__(self, limit: float | None, *, _deadline: float | None = None):
        self.start = time.monotonic()
        if _deadline is not None:
            self.deadline = _deadline
        else:
            self.deadline = math.inf if limit is None else self.start + float(limit)

    @property
    def limited(self) -> bool:
        return math.isfinite(self.deadline)

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self.deadline

    def sub(self, seconds: float | None) -> "TimeBudget":
        """A budget of at most ``seconds`` (None: whatever this one has left)."""
        if seconds is None:
            return TimeBudget(None, _deadline=self.deadline)
        return TimeBudget(None, _deadline=min(self.deadline, time.monotonic() + max(0.0, seconds)))

    # Each of these is unlimited when this budget is: inf times a share is still inf.
    def fraction(self, share: float) -> "TimeBudget":
        """A budget of ``share`` of what is left."""
        return self.sub(self.remaining() * share)

    def share(self, n: int) -> "TimeBudget":
        """An even share of what is left among ``n`` steps still to run, this one included."""
        return self.sub(self.remaining() / max(n, 1))

    def leaving(self, seconds: float) -> "TimeBudget":
        """A budget that ends ``seconds`` before this one does."""
        return self.sub(self.remaining() - seconds)

    def __repr__(self) -> str:
        return f"TimeBudget(remaining={self.remaining():.1f}s)"
