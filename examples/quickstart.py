"""Quickstart: a classifier and a regressor, each in a few lines.

Run: python examples/quickstart.py   (about two minutes: two fits of 60 s each)
"""
import os

from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.model_selection import train_test_split

from automl import AutoMLClassifier, AutoMLRegressor

# Seconds per fit; the tests shorten it through this variable.
TIME_LIMIT = float(os.environ.get("AUTOML_EXAMPLE_TIME_LIMIT", 60))

# Classification: predict_proba's columns follow classes_.
X, y = load_breast_cancer(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
classifier = AutoMLClassifier(time_limit=TIME_LIMIT, random_state=0).fit(X_train, y_train)
print(f"classification accuracy on held-out rows: {classifier.score(X_test, y_test):.4f}")
print("class probabilities of the first 3 rows:", classifier.predict_proba(X_test)[:3].round(3).tolist())

# Regression: score is R^2, as in scikit-learn.
X, y = load_diabetes(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
regressor = AutoMLRegressor(time_limit=TIME_LIMIT, random_state=0).fit(X_train, y_train)
print(f"regression R^2 on held-out rows: {regressor.score(X_test, y_test):.4f}")
