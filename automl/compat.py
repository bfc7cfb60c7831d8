"""Every use of a third-party library's private API, in one place, each with a fallback or a
clear error: a new release that changes one breaks one function here, not the package.

- ``scorer_parts``: what a scikit-learn scorer computes (``_Scorer``'s ``_score_func``, ``_sign``,
  ``_kwargs`` and ``_response_method``, stable since scikit-learn 1.4; before it, the scorer's
  class said what it reads); without them a clear error.
- ``sklearn_tree``: a compiled scikit-learn ``Tree`` rebuilt from node arrays (its private
  ``NODE_DTYPE`` and ``__setstate__``), which finds leaves fast; None where the layout differs,
  and the caller uses its numpy descent.
"""
from __future__ import annotations

import numpy as np


def is_scorer(value) -> bool:
    """Whether ``value`` looks like a scikit-learn scorer (``make_scorer``, ``get_scorer``)."""
    return callable(value) and hasattr(value, "_score_func")


# scikit-learn before 1.4 said what a scorer reads by its class instead of ``_response_method``.
LEGACY_RESPONSES = {"_ProbaScorer": "predict_proba", "_ThresholdScorer": ("decision_function", "predict_proba"),
                    "_PredictScorer": "predict"}


def scorer_parts(scorer) -> tuple:
    """(score function, sign, keyword arguments, response methods as a tuple) of a scorer."""
    try:
        func, sign, kwargs = scorer._score_func, scorer._sign, dict(scorer._kwargs)
        response = getattr(scorer, "_response_method", None) or LEGACY_RESPONSES[type(scorer).__name__]
    except (AttributeError, KeyError) as exc:
        raise ValueError(f"metric: {scorer!r} is not a scorer this scikit-learn version can read ({exc}); "
                         "make it with sklearn.metrics.make_scorer.") from None
    return func, sign, kwargs, (response,) if isinstance(response, str) else tuple(response)


def sklearn_tree(n_features: int, depth: int, left: np.ndarray, right: np.ndarray, feature: np.ndarray,
                 threshold: np.ndarray):
    """A scikit-learn ``Tree`` with these nodes (values left at zero: only ``apply`` is used), or
    None where this scikit-learn's private tree layout is not the one this was written for."""
    try:
        from sklearn.tree._tree import NODE_DTYPE, Tree

        nodes = np.zeros(len(left), dtype=NODE_DTYPE)
        nodes["left_child"], nodes["right_child"] = left, right
        nodes["feature"], nodes["threshold"] = feature, threshold
        tree = Tree(n_features, np.array([1], dtype=np.intp), 1)
        tree.__setstate__({"max_depth": int(depth), "node_count": len(left), "nodes": nodes,
                           "values": np.zeros((len(left), 1, 1))})
        return tree
    except Exception:  # noqa: BLE001 - any change there means: use the numpy descent
        return None
