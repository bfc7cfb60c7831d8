"""Choosing an ensemble strategy, and comparing strategies on the stored predictions.

Every model's out-of-fold (OOF) predictions are kept in a prediction store, so fit_ensemble
re-runs only the ensemble step: comparing strategies costs seconds, with no retraining.

Run: python examples/ensemble_strategies.py
"""
import os

import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from automl import AutoMLClassifier
from automl.ensemble import STRATEGIES

TIME_LIMIT = float(os.environ.get("AUTOML_EXAMPLE_TIME_LIMIT", 60))

X, y = load_breast_cancer(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

# ensemble="auto" (the default) searches the strategies and their settings with Optuna, scoring
# each on inner folds of the OOF rows; ensemble_report() shows what it tried and why it chose.
model = AutoMLClassifier(time_limit=TIME_LIMIT, random_state=0).fit(X_train, y_train)
with pd.option_context("display.width", 200, "display.max_columns", None, "display.max_colwidth", 40):
    print(model.ensemble_report(), "\n")

# Any strategy by name, re-fitted on the stored predictions (only the ensemble step runs).
print(f"{'strategy':<12} {'OOF ' + model.metric_:>14} {'test roc_auc':>13} {'models used':>12}")
for name in sorted(STRATEGIES):
    model.fit_ensemble(ensemble=name)
    test_auc = roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])
    print(f"{name:<12} {model.ensemble_score_:>14.5f} {test_auc:>13.5f} {len(model.ensemble_.used_models):>12}")

# Keep one. Choose on OOF scores, never on test rows; flexible strategies (stacking, qdo) fit the
# OOF rows more closely than they generalize, which is why "auto" scores them on inner folds.
model.fit_ensemble(ensemble="ges")
