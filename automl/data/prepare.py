"""prepare: the one path from a user's table to what every model of a fit trains on.

The estimators' ``fit`` and the portfolio evaluation both call it, so the configurations a
portfolio is learned from see their data exactly as a fit does.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .encoder import TabularEncoder
from .frame import as_frame, check_sample_weight, encode_groups, split_row_values, split_target
from .target import LabelCodec, classification_task, clean_target
from .training import TrainingData


@dataclass(frozen=True)
class PreparedTable:
    """Encoded training rows and what encodes new rows the same way."""

    data: TrainingData
    task: str  # "binary", "multiclass" or "regression"
    encoder: TabularEncoder
    codec: LabelCodec | None  # class labels <-> 0..n_classes-1 (None for regression)
    feature_names: list  # the user's columns, in order (weights and groups left out)

    @property
    def n_classes(self) -> int:
        return 0 if self.codec is None else len(self.codec.classes_)


def prepare(X, y=None, *, regression: bool, sample_weight=None, groups=None,
            codec: LabelCodec | None = None) -> PreparedTable:
    """``X`` (a DataFrame or array; ``y``, ``sample_weight`` and ``groups`` may name its columns)
    checked, its rows with a missing target dropped (with a warning), the task inferred from the
    target (``regression`` or binary / multiclass), the columns encoded by a ``TabularEncoder``
    fitted here, the target encoded (by ``codec``, or one fitted here), weights and groups checked.
    Bad input raises a ValueError that names the problem."""
    frame = as_frame(X)
    frame, weight = split_row_values(frame, sample_weight, "sample_weight")
    frame, group = split_row_values(frame, groups, "groups")
    frame, target = split_target(frame, y)
    if len(frame) < 2:  # a fold to fit on and one to predict
        raise ValueError(f"Found {len(frame)} sample(s) (shape={frame.shape}) while a minimum of 2 is "
                         "required: the table is empty or too small to learn from.")
    if frame.shape[1] == 0:
        raise ValueError(f"Found 0 feature(s) (shape={frame.shape}) while a minimum of 1 is required.")
    task = "regression" if regression else classification_task(target)
    target, keep = clean_target(target, task)
    if not keep.all():
        warnings.warn(f"Dropped {int((~keep).sum())} rows whose target is missing.", UserWarning, stacklevel=3)
        frame = frame[keep]
        weight = None if weight is None else weight[keep]
        group = None if group is None else group[keep]
    if task == "regression":
        y_encoded = target.to_numpy(dtype=np.float64)
    else:
        codec = codec or LabelCodec().fit(target)
        y_encoded = codec.encode(target)
    encoder = TabularEncoder().fit(frame)
    if not encoder.input_columns:
        raise ValueError(f"No usable feature columns: {encoder.schema_.dropped}.")
    data = TrainingData(encoder.transform(frame), y_encoded,
                        None if weight is None else check_sample_weight(weight),
                        None if group is None else encode_groups(group))
    return PreparedTable(data, task, encoder, codec if task != "regression" else None, list(frame.columns))
