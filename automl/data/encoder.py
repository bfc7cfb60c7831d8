"""TabularEncoder: turns a user's table into numeric arrays, fitted on training rows only.

The output, an ``EncodedTable``, keeps numbers and category codes apart so that every model
family can build its own view (see ``views.py``) from one shared encoding.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .schema import CATEGORICAL, DATETIME, NUMERIC, TEXT, Schema, infer_schema
from .text import TextColumn

# Category levels seen fewer times than this in training share the "other" code.
MIN_LEVEL_COUNT = 3
# At most this many levels per column keep their own code (the most frequent ones).
MAX_LEVELS = 512
DATETIME_PARTS = ("year", "month", "day", "weekday", "hour", "ordinal")
MISSING_CODE = -1
# String columns (categories or text) with at least this many distinct training values also keep
# every one of them, rare ones included, as raw codes for CatBoost, whose ordered target statistics
# are made for rare levels (300 levels each seen twice in training: CatBoost's test RMSE 2.05 with
# them, 3.45 folded into "other"; on cars_mpg's car names no gain beyond noise). Fewer levels lose
# little to the folding.
RAW_MIN_LEVELS = 50
# At most this many raw levels per column (the most frequent; the rest share the last code).
MAX_RAW_LEVELS = 50_000
# Not when the values are nearly unique per row (titles, email bodies): a level seen once has no
# statistics to give.
RAW_MAX_DISTINCT_SHARE = 0.9


@dataclass
class EncodedTable:
    """Encoded rows: float32 numbers (NaN = missing) and int32 category codes.

    Category codes run from 0 to ``cardinalities[j] - 1``; the last code of each column is
    "other" (rare or unseen levels) and ``MISSING_CODE`` marks a missing value. ``raw`` (None when
    no column has many levels): int32 codes of every training level of the high-cardinality string
    columns ``raw_names``, rare ones included (unseen: the last code), read by CatBoost; most other
    families get their target encoding (``models.base.Model.fit``).
    """

    numeric: np.ndarray
    categorical: np.ndarray
    numeric_names: list[str]
    categorical_names: list[str]
    cardinalities: list[int]
    raw: np.ndarray | None = None
    raw_names: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return self.numeric.shape[0]

    def take(self, rows: np.ndarray) -> "EncodedTable":
        return EncodedTable(self.numeric[rows], self.categorical[rows], self.numeric_names,
                            self.categorical_names, self.cardinalities,
                            None if self.raw is None else self.raw[rows], self.raw_names)

    def concat(self, other: "EncodedTable") -> "EncodedTable":
        """These rows, then ``other``'s (encoded by the same encoder)."""
        return EncodedTable(np.concatenate([self.numeric, other.numeric]),
                            np.concatenate([self.categorical, other.categorical]), self.numeric_names,
                            self.categorical_names, self.cardinalities,
                            None if self.raw is None else np.concatenate([self.raw, other.raw]), self.raw_names)

    def with_numeric(self, values: np.ndarray, names: list[str]) -> "EncodedTable":
        """These rows with more numeric columns (``values``, (n, len(names))) after their own."""
        if not names:
            return self
        return replace(self, numeric=np.hstack([self.numeric, values.astype(np.float32)]),
                       numeric_names=self.numeric_names + list(names))

    @property
    def n_features(self) -> int:
        return self.numeric.shape[1] + self.categorical.shape[1]


class TabularEncoder:
    """Infers a schema and the category levels on training rows; encodes any rows the same way."""

    def fit(self, frame: pd.DataFrame) -> "TabularEncoder":
        self.schema_: Schema = infer_schema(frame)
        self.levels_: dict[str, list[str]] = {}
        self.raw_levels_: dict[str, list[str]] = {}
        self.texts_: dict[str, TextColumn] = {}
        for name, kind in self.schema_.kinds.items():
            if kind not in (CATEGORICAL, TEXT):
                continue
            values = _as_text(frame[name])
            counts = pd.Series(values, dtype=object).value_counts()
            if kind == CATEGORICAL:
                keep = counts[counts >= MIN_LEVEL_COUNT].index[:MAX_LEVELS]
                self.levels_[name] = sorted(keep, key=_natural_key)
            else:
                self.texts_[name] = TextColumn().fit(values)
            if RAW_MIN_LEVELS <= len(counts) <= RAW_MAX_DISTINCT_SHARE * counts.sum():
                self.raw_levels_[name] = sorted(counts.index[:MAX_RAW_LEVELS], key=_natural_key)
        self.date_parts_: dict[str, list[str]] = {}
        for name in self.schema_.columns(DATETIME):
            parts = _date_parts(frame[name])
            self.date_parts_[name] = [p for p in DATETIME_PARTS if pd.Series(parts[p]).nunique() > 1]
        return self

    def _codes(self, texts: dict[str, list[str | None]], attribute: str, n: int) -> np.ndarray:
        """(n, columns) int32 codes of the columns named in the level lists of ``attribute``
        ("levels_" or "raw_levels_"), from their values as ``texts``: a level's index, the list's
        length for any other value, ``MISSING_CODE`` where missing. The lookups are dicts built once
        per list: a dict lookup per value costs what the Python pass of ``_as_text`` already does; a
        pandas Index lookup per column cost ~0.1 ms on a single row, half of a distilled student's
        single-row latency on titanic."""
        lookups = self.__dict__.setdefault("_lookups", {})
        codes = []
        for name, kept in getattr(self, attribute).items():
            if (attribute, name) not in lookups:
                lookups[attribute, name] = {level: code for code, level in enumerate(kept)}
            lookup, other = lookups[attribute, name], len(kept)
            codes.append(np.fromiter((MISSING_CODE if value is None else lookup.get(value, other)
                                      for value in texts[name]), dtype=np.int32, count=n))
        return np.column_stack(codes) if codes else np.zeros((n, 0), np.int32)

    def get_state(self) -> dict:
        return {"schema": self.schema_.to_dict(), "levels": self.levels_, "date_parts": self.date_parts_,
                "texts": {name: text.get_state() for name, text in self.texts_.items()},
                "raw_levels": self.raw_levels_}

    @classmethod
    def from_state(cls, state: dict) -> "TabularEncoder":
        encoder = cls()
        encoder.schema_ = Schema(**state["schema"])
        encoder.levels_, encoder.date_parts_ = state["levels"], state["date_parts"]
        # Folders saved before text columns and raw levels existed have none.
        encoder.texts_ = {name: TextColumn.from_state(text) for name, text in state.get("texts", {}).items()}
        encoder.raw_levels_ = state.get("raw_levels", {})
        return encoder

    def treatment(self) -> dict[str, str]:
        """How each used input column is encoded, in words (``automl info``, the report)."""
        def described(name: str, kind: str) -> str:
            if kind == CATEGORICAL:
                how = f"categorical: {len(self.levels_[name])} levels kept (rare and unseen: other)"
            elif kind == DATETIME:
                how = f"datetime: {', '.join(self.date_parts_[name]) or 'no varying part'}"
            elif kind == TEXT:
                text = self.texts_[name]
                how = (f"text: word count + {len(text.names) - 1} SVD components of TF-IDF "
                       f"{' and '.join(text.kinds_) or 'no'} n-grams")
            else:
                how = kind
            if name in self.raw_levels_:
                how += (f"; all {len(self.raw_levels_[name])} values kept: levels for CatBoost, an out-of-fold "
                        "target encoding for the families that take one")
            return how
        return {name: described(name, kind) for name, kind in self.schema_.kinds.items()}

    @property
    def input_columns(self) -> list[str]:
        return list(self.schema_.kinds)

    def column_sources(self) -> dict[str, tuple[list[int], list[int], list[int]]]:
        """Each used input column -> (its numeric, categorical and raw columns) in the encoded
        table: a number or a category is one column, a date its parts, a text its word count and
        SVD columns. Permuting those together is permuting the input column (``transform``
        encodes row by row)."""
        sources = {name: ([], [], []) for name in self.input_columns}
        numeric = self.schema_.columns(NUMERIC) + [name for name, keep in self.date_parts_.items() for _ in keep] \
            + [name for name, text in self.texts_.items() for _ in text.names]
        for j, name in enumerate(numeric):
            sources[name][0].append(j)
        for j, name in enumerate(self.levels_):
            sources[name][1].append(j)
        for j, name in enumerate(self.raw_levels_):
            sources[name][2].append(j)
        return {name: columns for name, columns in sources.items() if any(columns)}

    def transform(self, frame: pd.DataFrame) -> EncodedTable:
        numeric, numeric_names = [], []
        for name in self.schema_.columns(NUMERIC):
            numeric.append(_as_number(frame[name]))
            numeric_names.append(name)
        for name, keep in self.date_parts_.items():
            parts = _date_parts(frame[name])
            for part in keep:
                numeric.append(parts[part])
                numeric_names.append(f"{name}__{part}")
        # Each string column's values as text, once (a column can be coded twice: folded and raw).
        texts = {name: _as_text(frame[name]) for name in {**self.levels_, **self.raw_levels_, **self.texts_}}
        for name, text in self.texts_.items():
            numeric.extend(text.transform(texts[name]).T)
            numeric_names.extend(f"{name}__{suffix}" for suffix in text.names)
        n = len(frame)
        num = np.column_stack(numeric).astype(np.float32) if numeric else np.zeros((n, 0), np.float32)
        num[~np.isfinite(num)] = np.nan

        cards = [len(levels) + 1 for levels in self.levels_.values()]  # rare or unseen -> "other"
        raw = self._codes(texts, "raw_levels_", n) if self.raw_levels_ else None
        return EncodedTable(num, self._codes(texts, "levels_", n), numeric_names, list(self.levels_), cards,
                            raw, list(self.raw_levels_))


def _as_text(col: pd.Series) -> list[str | None]:
    """Category levels as strings (so 1, "1" and True/"True" compare the way a user reads them),
    None where missing."""
    values = col.to_numpy(dtype=object)
    mask = pd.isna(values)
    # One Python pass over plain values: pandas' where + map cost ~0.4 ms a column on a single row.
    return [None if missing else v if isinstance(v, str) else _format(v) for v, missing in zip(values, mask)]


def _format(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _natural_key(level: str):
    try:
        return (0, float(level), level)
    except ValueError:
        return (1, 0.0, level)


def _as_number(col: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(col.dtype):
        return col.astype(float).to_numpy()
    if pd.api.types.is_numeric_dtype(col.dtype):  # already numbers: no parsing (to_numeric: ~0.1 ms a column)
        return col.to_numpy(dtype=np.float64, na_value=np.nan)
    return pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _date_parts(col: pd.Series) -> dict[str, np.ndarray]:
    if not pd.api.types.is_datetime64_any_dtype(col.dtype):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            col = pd.to_datetime(col, errors="coerce", format="mixed")
    if getattr(col.dt, "tz", None) is not None:
        col = col.dt.tz_convert("UTC").dt.tz_localize(None)
    dt = col.dt
    ordinal = (col - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
    return {
        "year": dt.year.to_numpy(dtype=np.float64, na_value=np.nan),
        "month": dt.month.to_numpy(dtype=np.float64, na_value=np.nan),
        "day": dt.day.to_numpy(dtype=np.float64, na_value=np.nan),
        "weekday": dt.day_of_week.to_numpy(dtype=np.float64, na_value=np.nan),
        "hour": dt.hour.to_numpy(dtype=np.float64, na_value=np.nan),
        "ordinal": ordinal.to_numpy(dtype=np.float64, na_value=np.nan),
    }
