"""A fitted scikit-learn forest as flat arrays, predicted with numpy.

Every tree's nodes are concatenated: ``feature``, ``threshold``, ``left``, ``right`` (indices into
the same arrays; a leaf points to itself) and ``value`` (a leaf's class probabilities or mean).
A row descends all trees at once, one level per step, going left where ``x <= threshold`` (x as
float32, as scikit-learn compares it); the forest's prediction is the mean of its leaves, which
is what scikit-learn's ``predict_proba`` / ``predict`` compute. Kept this way the forest is a few
arrays a model folder stores as they are (no pickle), and it predicts the same before and after
saving, with only what prediction needs (no training statistics of inner nodes).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

# Rows x trees descended at once: bounds the (rows, trees) index arrays to ~16 MB.
CELLS_PER_CHUNK = 2_000_000


@dataclass
class ForestArrays:
    feature: np.ndarray  # int32 [nodes]
    threshold: np.ndarray  # float64 [nodes]
    left: np.ndarray  # int32 [nodes]
    right: np.ndarray  # int32 [nodes]
    value: np.ndarray  # float32 [nodes, outputs]
    roots: np.ndarray  # int32 [trees]
    depth: int

    @classmethod
    def from_estimators(cls, trees, classification: bool) -> "ForestArrays":
        parts, offset = [], 0
        for estimator in trees:
            tree = estimator.tree_
            n = tree.node_count
            leaf = tree.children_left == -1
            own = np.arange(n) + offset
            value = tree.value[:, 0, :].astype(np.float64)
            if classification:  # a tree's prediction is its leaf's class distribution
                value = value / np.maximum(value.sum(axis=1, keepdims=True), 1e-300)
            parts.append((np.where(leaf, 0, tree.feature), np.where(leaf, 0.0, tree.threshold),
                          np.where(leaf, own, tree.children_left + offset),
                          np.where(leaf, own, tree.children_right + offset), value, offset))
            offset += n
        feature, threshold, left, right, value, roots = (list(column) for column in zip(*parts))
        return cls(np.concatenate(feature).astype(np.int32), np.concatenate(threshold).astype(np.float64),
                   np.concatenate(left).astype(np.int32), np.concatenate(right).astype(np.int32),
                   np.concatenate(value).astype(np.float32), np.array(roots, dtype=np.int32),
                   int(max(t.tree_.max_depth for t in trees)))

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        """The mean of the trees' leaf values, shape (rows, outputs), float64."""
        matrix = np.asarray(matrix, dtype=np.float32)
        out = np.empty((len(matrix), self.value.shape[1]))
        step = max(1, CELLS_PER_CHUNK // len(self.roots))
        for start in range(0, len(matrix), step):
            block = matrix[start:start + step]
            rows = np.arange(len(block))[:, None]
            node = np.broadcast_to(self.roots, (len(block), len(self.roots))).copy()
            for _ in range(self.depth):
                goes_left = block[rows, self.feature[node]] <= self.threshold[node]
                below = np.where(goes_left, self.left[node], self.right[node])
                if np.array_equal(below, node):  # every row is at a leaf of every tree
                    break
                node = below
            out[start:start + step] = self.value[node].mean(axis=1, dtype=np.float64)
        return out

    def get_state(self) -> dict:
        return asdict(self)

    @classmethod
    def from_state(cls, state: dict) -> "ForestArrays":
        return cls(**state)
