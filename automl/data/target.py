"""Targets: task inference, validation, and class labels that round-trip."""
from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api import types as pdt

TASKS = ("binary", "multiclass", "regression")
# A numeric target with more distinct values than this is a regression target.
MAX_CLASSES_FOR_NUMERIC = 20


def infer_task(y: pd.Series) -> str:
    """``regression`` for a numeric target with many or fractional values, else its classification task."""
    present = y.dropna()
    if pdt.is_bool_dtype(present.dtype) or not pdt.is_numeric_dtype(present.dtype):
        return classification_task(present)
    integral = bool(np.all(np.mod(present.to_numpy(dtype=float), 1) == 0))
    if integral and present.nunique() <= MAX_CLASSES_FOR_NUMERIC:
        return classification_task(present)
    return "regression"


def classification_task(y: pd.Series) -> str:
    """``binary`` for at most two classes (missing values aside), else ``multiclass``."""
    return "binary" if y.dropna().nunique() <= 2 else "multiclass"


class LabelCodec:
    """Maps the user's class labels (any type) to 0..n_classes-1 and back."""

    def fit(self, y: pd.Series) -> "LabelCodec":
        values = y.to_numpy(dtype=object) if not pdt.is_numeric_dtype(y.dtype) else y.to_numpy()
        try:
            classes = np.unique(values)
        except TypeError:  # mixed types cannot be ordered: order by their text
            uniq = list(dict.fromkeys(values.tolist()))
            classes = np.array(sorted(uniq, key=str), dtype=object)
        if pdt.is_bool_dtype(y.dtype):
            classes = classes.astype(bool)
        self.classes_ = classes
        return self

    def get_state(self) -> dict:
        """The classes as JSON values and their dtype (numbers, booleans and text round-trip)."""
        kinds = {type(c) for c in self.classes_.tolist()}
        if not kinds <= {str, int, float, bool}:
            raise TypeError(f"Class labels of type {sorted(k.__name__ for k in kinds)} cannot be saved; "
                            "use text, numbers or booleans.")
        return {"classes": self.classes_.tolist(), "dtype": self.classes_.dtype.str if self.classes_.dtype != object
                else "object"}

    @classmethod
    def from_state(cls, state: dict) -> "LabelCodec":
        codec = cls()
        dtype = object if state["dtype"] == "object" else np.dtype(state["dtype"])
        codec.classes_ = np.array(state["classes"], dtype=dtype)
        return codec

    def encode(self, y: pd.Series) -> np.ndarray:
        index = {c: i for i, c in enumerate(self.classes_.tolist())}
        return np.array([index[v] for v in y.tolist()], dtype=np.int64)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        return self.classes_[codes]


def clean_target(y: pd.Series, task: str) -> tuple[pd.Series, np.ndarray]:
    """Validates the target; returns it without missing rows, and the mask of rows kept."""
    if len(y) == 0:
        raise ValueError("The target is empty: there are no rows to learn from.")
    keep = y.notna().to_numpy().copy()
    if pdt.is_numeric_dtype(y.dtype) and not pdt.is_bool_dtype(y.dtype):
        keep &= np.isfinite(y.to_numpy(dtype=float, na_value=np.nan))
    if not keep.any():
        raise ValueError(f"The target column {y.name!r} is entirely missing." if y.name is not None
                         else "The target is entirely missing.")
    y = y[keep]
    if task == "regression":
        if pdt.is_bool_dtype(y.dtype) or not pdt.is_numeric_dtype(y.dtype):
            converted = pd.to_numeric(y, errors="coerce")
            if converted.isna().any():
                bad = y[converted.isna()].iloc[0]
                raise ValueError(f"A regression target must be numeric; found the value {bad!r}. "
                                 "Use AutoMLClassifier (or --task binary/multiclass) for class labels.")
            y = converted.astype(float)
    else:
        if pdt.is_float_dtype(y.dtype) and not np.all(np.mod(y.to_numpy(), 1) == 0):
            raise ValueError(f"Unknown label type: the target is continuous (for example {y.iloc[0]!r}); "
                             "use AutoMLRegressor (or --task regression) for a numeric target.")
        if y.nunique() < 2:
            raise ValueError(f"The target has one class ({y.iloc[0]!r}); a classifier needs at least two.")
    return y, keep
