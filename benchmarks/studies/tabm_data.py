"""A dev-suite dataset split and encoded the way the project fits it, for the TabM measurements.

The split is the benchmark's (protocol.split: 75/25, stratified for classification); the
encoder is fitted on the training part only, as AutoMLClassifier / AutoMLRegressor do.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import protocol
from ..protocol import resolve_suite

from automl.data.encoder import EncodedTable
from automl.data.prepare import prepare
from automl.data.target import LabelCodec
from automl.metrics import get_metric
from automl.models.base import TaskInfo


@dataclass
class EncodedSplit:
    name: str
    info: TaskInfo
    X_train: EncodedTable
    y_train: np.ndarray
    X_test: EncodedTable
    y_test: np.ndarray

    def score(self, y: np.ndarray, pred: np.ndarray) -> float:
        """The benchmark's main metric (ROC AUC, log loss or RMSE) on predictions in the model convention."""
        return get_metric(protocol.MAIN_METRIC[self.info.task], self.info.task).score(y, pred)


def load_encoded(name: str, suite: str = "dev", seed: int = 0) -> EncodedSplit:
    suite_dir = resolve_suite(suite)
    entry = next(e for e in protocol.read_manifest(suite_dir) if e["name"] == name)
    X, y = protocol.load_dataset(suite_dir, entry)
    X_train, X_test, y_train, y_test = protocol.split(X, y, entry["task"], seed)
    regression = entry["task"] == "regression"
    codec = None if regression else LabelCodec().fit(y)  # every class of the dataset, as the metrics use
    prepared = prepare(X_train, y_train, regression=regression, codec=codec)
    target_test = y_test.to_numpy(dtype=np.float64) if regression else codec.encode(y_test)
    return EncodedSplit(name, TaskInfo(entry["task"], prepared.n_classes), prepared.data.X, prepared.data.y,
                        prepared.encoder.transform(X_test), target_test)
