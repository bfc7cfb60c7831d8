"""Column-type inference: one kind per column, decided on the training rows only."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.api import types as pdt

NUMERIC, CATEGORICAL, DATETIME, TEXT = "numeric", "categorical", "datetime", "text"
# Integer columns with at most this many distinct values are treated as categories.
MAX_INT_LEVELS_AS_CATEGORY = 10
# A string column parses as numbers or dates when this share of its non-missing values does.
PARSE_SHARE = 0.95
# A string column needs this many rows before "unique on every row" means "an ID".
MIN_ROWS_FOR_ID = 20
# A string column is free text when its distinct values average this many words (AutoGluon's
# rule), or this many and most rows have a value of their own (names, titles: "ford pinto",
# "chevrolet chevelle malibu"): as a category its levels would be mostly "other".
TEXT_MIN_WORDS = 3.0
NAME_MIN_WORDS, NAME_MIN_DISTINCT_SHARE = 2.0, 0.5
# Distinct values read to count words.
TEXT_SAMPLE = 1000


@dataclass
class Schema:
    """Inferred kind of every kept column, and why the others were dropped."""

    kinds: dict[str, str] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)

    def columns(self, kind: str) -> list[str]:
        return [c for c, k in self.kinds.items() if k == kind]

    def to_dict(self) -> dict:
        return {"kinds": dict(self.kinds), "dropped": dict(self.dropped)}


def infer_schema(frame: pd.DataFrame) -> Schema:
    schema = Schema()
    for name in frame.columns:
        kind, reason = _infer_column(frame[name])
        if kind is None:
            schema.dropped[name] = reason
        else:
            schema.kinds[name] = kind
    return schema


def _infer_column(col: pd.Series) -> tuple[str | None, str]:
    present = col.dropna()
    if len(present) == 0:
        return None, "all missing"
    if isinstance(col.dtype, pd.CategoricalDtype) or pdt.is_bool_dtype(col.dtype):
        kind = CATEGORICAL
    elif pdt.is_datetime64_any_dtype(col.dtype):
        kind = DATETIME
    elif pdt.is_numeric_dtype(col.dtype):
        n_levels = pd.to_numeric(present).replace([np.inf, -np.inf], np.nan).nunique()
        if n_levels <= 1:
            return None, "constant"
        # Small integer codes (3 to 10 levels) are usually categories in disguise; two levels
        # encode the same either way, so they stay numeric.
        if pdt.is_integer_dtype(col.dtype) and 2 < n_levels <= MAX_INT_LEVELS_AS_CATEGORY:
            return CATEGORICAL, ""
        return NUMERIC, ""
    else:
        kind = _infer_text(present)
        distinct = pd.Series(present.astype(str).unique())  # the values as text, read once
        if kind == CATEGORICAL and _is_free_text(distinct, len(present)):
            kind = TEXT
        if kind == CATEGORICAL and len(col) >= MIN_ROWS_FOR_ID and len(distinct) == len(col):
            return None, "identifier (unique on every row)"
        return (None, "constant") if len(distinct) <= 1 else (kind, "")
    if present.astype(str).nunique() <= 1:
        return None, "constant"
    return kind, ""


def _infer_text(present: pd.Series) -> str:
    """Strings (or mixed objects) become numbers, dates or categories."""
    numbers = pd.to_numeric(present, errors="coerce")
    if numbers.notna().mean() >= PARSE_SHARE:
        return NUMERIC
    if numbers.notna().mean() < 0.5:  # mostly non-numeric: might be dates
        sample = present.astype(str).head(1000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dates = pd.to_datetime(sample, errors="coerce", format="mixed")
        if dates.notna().mean() >= PARSE_SHARE:
            return DATETIME
    return CATEGORICAL


def _is_free_text(distinct: pd.Series, n_present: int) -> bool:
    """Whether a column of strings, ``distinct`` values among ``n_present``, holds text
    (descriptions, titles, names) rather than levels."""
    words = distinct.head(TEXT_SAMPLE).str.split().str.len().mean()
    share = len(distinct) / n_present
    return bool(words >= TEXT_MIN_WORDS or (words >= NAME_MIN_WORDS and share >= NAME_MIN_DISTINCT_SHARE))
