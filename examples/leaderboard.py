"""Using the leaderboard: every trained model with its OOF score, times and ensemble weight.

Run: python examples/leaderboard.py
"""
import os

import pandas as pd
from sklearn.datasets import load_diabetes

from automl import AutoMLRegressor

TIME_LIMIT = float(os.environ.get("AUTOML_EXAMPLE_TIME_LIMIT", 60))

X, y = load_diabetes(return_X_y=True, as_frame=True)
model = AutoMLRegressor(time_limit=TIME_LIMIT, random_state=0).fit(X, y)

board = model.leaderboard()
score = f"oof_{model.metric_}"
with pd.option_context("display.width", 120, "display.max_columns", None):
    print(board)

# The ensemble's members, and how much the ensemble gains over its best single model.
members = board[board["ensemble_weight"] > 0]
print(f"\n{len(members)} of {len(board)} models are in the ensemble: {', '.join(members['config'])}")
print(f"best single model OOF {model.metric_}: {board[score].iloc[0]:.4f}; ensemble: {model.ensemble_score_:.4f}")

# A cheaper model: the fastest to predict among those within 2% of the best OOF score.
near_best = board[board[score] <= board[score].iloc[0] * 1.02]
fastest = near_best.sort_values("predict_seconds_per_1k").iloc[0]
print(f"fastest model within 2% of the best: {fastest['config']} "
      f"({fastest['predict_seconds_per_1k']:.3f}s per 1,000 rows)")
