"""A fitted scikit-learn forest as flat arrays: what a model folder stores, and what predicts.

Every tree's nodes are concatenated (``node_counts`` says how many each tree has): children
(``-1`` at a leaf), the split feature and threshold, and ``value``, a node's class probabilities
or mean. A row's prediction is the mean over trees of the value of the leaf it reaches, going left
where ``x <= threshold`` with x as float32: what scikit-learn's ``predict_proba`` / ``predict``
compute. Leaves are found by scikit-learn's own compiled ``Tree.apply``, on trees rebuilt from
these arrays; should a scikit-learn release change that private structure, a numpy descent of
all trees at once finds the same leaves. The arrays are plain numbers, so a folder stores them
without pickle and they load under any scikit-learn version.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..compat import sklearn_tree

# Rows x trees descended at once by the numpy descent: bounds its index arrays to ~16 MB.
CELLS_PER_CHUNK = 2_000_000
# Up to this many rows the numpy descent of all trees at once beats a compiled ``Tree.apply`` call
# per tree, whose per-call cost times 300 trees dominates a few rows. 300 trees on 5,000 x 20:
# one row 0.45 ms against 1.9 ms (random forest) and 0.6 against 2.4 (extra trees); the two
# break even near 16 rows; at 64 rows apply is 1.4-1.8x faster.
DESCENT_MAX_ROWS = 8
LEAF, UNDEFINED = -1, -2  # scikit-learn's markers for a leaf's children and its feature / threshold


@dataclass
class ForestArrays:
    left: np.ndarray  # int32 [nodes], tree-local indices
    right: np.ndarray  # int32 [nodes]
    feature: np.ndarray  # int32 [nodes]
    threshold: np.ndarray  # float64 [nodes]
    value: np.ndarray  # float32 [nodes, outputs]
    node_counts: np.ndarray  # int32 [trees]
    depths: np.ndarray  # int32 [trees]
    n_features: int
    _trees: list | None = field(default=None, repr=False, compare=False)  # rebuilt scikit-learn trees
    _links: tuple | None = field(default=None, repr=False, compare=False)  # the descent's global node links

    @classmethod
    def from_estimators(cls, estimators, n_features: int, classification: bool) -> "ForestArrays":
        trees = [e.tree_ for e in estimators]
        value = np.concatenate([t.value[:, 0, :] for t in trees]).astype(np.float64)
        if classification:  # a tree predicts its leaf's class distribution
            value /= np.maximum(value.sum(axis=1, keepdims=True), 1e-300)
        return cls(np.concatenate([t.children_left for t in trees]).astype(np.int32),
                   np.concatenate([t.children_right for t in trees]).astype(np.int32),
                   np.concatenate([t.feature for t in trees]).astype(np.int32),
                   np.concatenate([t.threshold for t in trees]).astype(np.float64),
                   value.astype(np.float32), np.array([t.node_count for t in trees], dtype=np.int32),
                   np.array([t.max_depth for t in trees], dtype=np.int32), n_features)

    @property
    def n_trees(self) -> int:
        return len(self.node_counts)

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        """The mean of the trees' leaf values, shape (rows, outputs), float64."""
        matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        total = np.zeros((len(matrix), self.value.shape[1]))
        for leaves in self._leaves(matrix):  # per block of trees: (rows, trees) global node indices
            total += self.value[leaves].sum(axis=1, dtype=np.float64)
        return total / self.n_trees

    def _leaves(self, matrix: np.ndarray):
        trees = self._sklearn_trees() if len(matrix) > DESCENT_MAX_ROWS else None
        offsets = np.concatenate([[0], np.cumsum(self.node_counts)[:-1]])
        if trees is not None:
            for tree, offset in zip(trees, offsets):
                yield (tree.apply(matrix) + offset)[:, None]
            return
        yield from self._descend(matrix, offsets)

    def _sklearn_trees(self) -> list | None:
        """scikit-learn ``Tree`` objects with these nodes (built once), or None where its private
        layout differs from the one this was written for."""
        if self._trees is None:
            trees, start = [], 0
            for count, depth in zip(self.node_counts, self.depths):
                part = slice(start, start + count)
                trees.append(sklearn_tree(self.n_features, depth, self.left[part], self.right[part],
                                          self.feature[part], self.threshold[part]))
                start += count
            self._trees = [] if any(tree is None for tree in trees) else trees
        return self._trees or None

    def _descend(self, matrix: np.ndarray, offsets: np.ndarray):
        """All trees at once in numpy, one level per step (a leaf points to itself)."""
        if self._links is None:  # global node indices, built once
            nodes = np.arange(len(self.left))
            leaf = self.left == LEAF
            tree_of = np.repeat(offsets, self.node_counts)
            self._links = (np.where(leaf, nodes, self.left + tree_of), np.where(leaf, nodes, self.right + tree_of),
                           np.where(leaf, 0, self.feature))
        left, right, feature = self._links
        step = max(1, CELLS_PER_CHUNK // len(offsets))
        for start in range(0, len(matrix), step):
            block = matrix[start:start + step]
            rows = np.arange(len(block))[:, None]
            node = np.broadcast_to(offsets, (len(block), len(offsets))).copy()
            while True:
                below = np.where(block[rows, feature[node]] <= self.threshold[node], left[node], right[node])
                if np.array_equal(below, node):
                    break
                node = below
            yield node

    def get_state(self) -> dict:
        return {"left": self.left, "right": self.right, "feature": self.feature, "threshold": self.threshold,
                "value": self.value, "node_counts": self.node_counts, "depths": self.depths,
                "n_features": self.n_features}

    @classmethod
    def from_state(cls, state: dict) -> "ForestArrays":
        return cls(**state)

