"""Turning what a user hands over (DataFrame, array, CSV path) into a checked DataFrame.

Error messages follow scikit-learn's wording where its users (and its estimator checks) look for it.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api import types as pdt
from scipy import sparse
from sklearn.exceptions import DataConversionWarning


def as_frame(X) -> pd.DataFrame:
    """A DataFrame with string column names; arrays get columns x0, x1, ..."""
    if isinstance(X, (str, Path)):
        from .io import read_table

        X = read_table(X)
    if sparse.issparse(X):
        raise TypeError("Sparse input is not supported: pass a dense array or a DataFrame (X.toarray()); "
                        "the tree models read tables, and one-hot columns are better given as one categorical.")
    if isinstance(X, pd.Series):
        X = X.to_frame()
    if not isinstance(X, pd.DataFrame):
        array = np.asarray(X)
        if array.ndim == 1:
            raise ValueError(f"Expected a 2-D table of features, got a 1-D array of {len(array)} values. Reshape "
                             "your data either using array.reshape(-1, 1) if your data has a single feature or "
                             "array.reshape(1, -1) if it contains a single sample.")
        if array.ndim != 2:
            raise ValueError(f"Expected a 2-D table of features, got an array of shape {array.shape}.")
        X = pd.DataFrame(array, columns=[f"x{j}" for j in range(array.shape[1])])
    if any(pdt.is_complex_dtype(dtype) for dtype in X.dtypes):
        raise ValueError("Complex data not supported: split each complex column into its real and imaginary parts.")
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
        raise ValueError("This estimator requires y to be passed, but the target y is None: pass y, or the name "
                         "of the target column of X.")
    target = y if isinstance(y, pd.Series) else pd.Series(_one_column(y))
    if pdt.is_complex_dtype(target.dtype):
        raise ValueError("Complex data not supported: the target must be real numbers or labels.")
    if len(target) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(target)}.")
    return X, target.reset_index(drop=True).set_axis(X.index)


def _one_column(y) -> np.ndarray:
    """``y`` as a 1-D array; a column vector is flattened with scikit-learn's warning."""
    values = np.asarray(y)
    if values.ndim == 2 and values.shape[1] == 1:
        warnings.warn("A column-vector y was passed when a 1d array was expected; it was flattened "
                      "(pass y.ravel()).", DataConversionWarning, stacklevel=4)
        return values.ravel()
    if values.ndim != 1:
        raise ValueError(f"y should be a 1d array (one target), got an array of shape {values.shape}.")
    return values


def align_columns(X: pd.DataFrame, expected: list[str], array_input: bool, owner: str) -> pd.DataFrame:
    """The columns seen at fit, in order; a missing one is an error, extra ones are ignored."""
    if array_input and X.shape[1] != len(expected):
        raise ValueError(f"X has {X.shape[1]} features, but {owner} is expecting {len(expected)} features as "
                         "input.")
    missing = [c for c in expected if c not in X.columns]
    if missing:
        raise ValueError(f"Columns missing at predict: {missing}.")
    extra = [c for c in X.columns if c not in set(expected)]
    if extra:
        warnings.warn(f"Ignoring columns not seen at fit: {extra}.", UserWarning, stacklevel=3)
    return X[expected]


def split_row_values(X: pd.DataFrame, values, what: str) -> tuple[pd.DataFrame, np.ndarray | None]:
    """Features and one value per row for ``what`` (``sample_weight``, ``groups``); ``values`` may
    name a column of ``X``, which is then left out of the features. None stays None."""
    if values is None:
        return X, None
    if isinstance(values, str):
        if values not in X.columns:
            raise ValueError(f"{what}: column {values!r} not found; the columns are {list(X.columns)}.")
        return X.drop(columns=[values]), X[values].to_numpy()
    array = np.asarray(values)
    if array.ndim != 1 or len(array) != len(X):
        raise ValueError(f"{what} must have one value per row of X ({len(X)}); got shape {array.shape}.")
    return X, array


def check_sample_weight(weight: np.ndarray) -> np.ndarray:
    """Row weights as float64, refused with the reason when they cannot weigh a fit."""
    try:
        weight = np.asarray(weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("sample_weight must be numbers, one per row.") from None
    if not np.isfinite(weight).all():
        raise ValueError(f"sample_weight has {int((~np.isfinite(weight)).sum())} missing or infinite values.")
    if (weight < 0).any():
        raise ValueError(f"sample_weight has {int((weight < 0).sum())} negative values; weights must be >= 0.")
    if not (weight > 0).any():
        raise ValueError("sample_weight is zero on every row: nothing to learn from.")
    return weight


def encode_groups(groups: np.ndarray) -> np.ndarray:
    """Group labels (any hashable values) as integer ids 0.., refused when some are missing."""
    series = pd.Series(groups)
    if series.isna().any():
        raise ValueError(f"groups has {int(series.isna().sum())} missing values; every row needs a group.")
    return pd.factorize(series, sort=True)[0].astype(np.int64)
