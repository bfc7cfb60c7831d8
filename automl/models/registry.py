"""Model families by name. Adding a family: write its module, add one line here."""
from __future__ import annotations

import importlib

from .base import Model

# name -> "module:Class"; modules are imported on first use so heavy libraries load lazily.
FAMILIES: dict[str, str] = {
    "lightgbm": "automl.models.lightgbm:LightGBMModel",
    "xgboost": "automl.models.xgboost:XGBoostModel",
    "catboost": "automl.models.catboost:CatBoostModel",
    "random_forest": "automl.models.sklearn_models:RandomForestModel",
    "extra_trees": "automl.models.sklearn_models:ExtraTreesModel",
    "linear": "automl.models.sklearn_models:LinearModel",
    "knn": "automl.models.sklearn_models:KNNModel",
    "tabm": "automl.models.tabm:TabMModel",
}


def get_family(name: str) -> type[Model]:
    if name not in FAMILIES:
        raise ValueError(f"Unknown model family {name!r}; choose from {sorted(FAMILIES)}.")
    module, cls = FAMILIES[name].split(":")
    return getattr(importlib.import_module(module), cls)
