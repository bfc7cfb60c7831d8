"""automl: AutoML for tabular data, ensembling bagged models on stored out-of-fold predictions."""
__version__ = "0.1.0"

from .estimator import AutoMLClassifier, AutoMLRegressor, load  # noqa: E402

__all__ = ["AutoMLClassifier", "AutoMLRegressor", "load", "__version__"]
