"""Turning what a user hands over (DataFrame, array, CSV path) into a checked DataFrame."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd


def as_frame(X) -> pd.DataFrame:
    """A DataFrame with string column names; arrays get columns x0, x1, ..."""
    if isinstance(X, (str, Path)):
        from .io import read_table

        X = read_table(X)
    if isinstance(X, pd.Series):
        X = X.to_frame()
    if not isinstance(X, pd.DataFrame):
        array = np.asarray(X)
        if array.ndim == 1:
            array = array.reshape(-1, 1)
        if array.ndim != 2:
            raise ValueError(f"Expected a 2-D table of features, got an array of shape {array.shape}.")
        X = pd.DataFrame(array, columns=[f"x{j}" for j in range(array.shape[1])])
    duplicated = X.columns[X.columns.duplicated()].unique().tolist()
    if duplicated:
        raise ValueError(f"Duplicate column names: {duplicated}. Rename them so each column is unique.")
    if not all(isinstance(c, str) for c in X.columns):
        X = X.rename(columns=str)
        duplicated = X.columns[X.columns.duplicated()].unique().tolist()
        if duplicated:
            raise ValueError(f"Column names collide once written as text: {duplicated}.")
    return X


def split_target(X: pd.DataFrame, y) -> tuple[pd.DataFrame, pd.Series]:
    """Features and target; ``y`` may name a column of ``X``."""
    if isinstance(y, str):
        if y not in X.columns:
            raise ValueError(f"Target column {y!r} not found; the columns are {list(X.columns)}.")
        return X.drop(columns=[y]), X[y].rename(y)
    if y is None:
        raise ValueError("No target given: pass y, or the name of the target column.")
    target = y if isinstance(y, pd.Series) else pd.Series(np.asarray(y).ravel() if np.ndim(y) > 1 else y)
    if len(target) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(target)}.")
    return X, target.reset_index(drop=True).set_axis(X.index)


def align_columns(X: pd.DataFrame, expected: list[str], array_input: bool) -> pd.DataFrame:
    """The columns seen at fit, in order; a missing one is an error, extra ones are ignored."""
    if array_input and X.shape[1] != len(expected):
        raise ValueError(f"X has {X.shape[1]} columns; the model was fitted on {len(expected)}.")
    missing = [c for c in expected if c not in X.columns]
    if missing:
        raise ValueError(f"Columns missing at predict: {missing}.")
    extra = [c for c in X.columns if c not in set(expected)]
    if extra:
        warnings.warn(f"Ignoring columns not seen at fit: {extra}.", UserWarning, stacklevel=3)
    return X[expected]
