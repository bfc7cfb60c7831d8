"""Free-text columns: detected, turned into n-gram features, learned from, saved without pickle."""
import numpy as np
import pandas as pd

import automl
from automl import AutoMLClassifier
from automl.data.encoder import TabularEncoder
from automl.data.schema import CATEGORICAL, TEXT, infer_schema
from automl.data.text import TextColumn
from automl.persistence import read_state, write_state

WORDS = "the a of movie plot actor scene film story cast music ending light dark long short".split()


def reviews(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Sentences of filler words, each with one word that decides the label, a distinct string per row."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    cue = np.where(label == 1, rng.choice(["great", "superb", "lovely"], n), rng.choice(["awful", "boring", "dull"], n))
    text = [" ".join([*rng.choice(WORDS, 6), c, *rng.choice(WORDS, 4), str(i)]) for i, c in enumerate(cue)]
    return pd.DataFrame({"review": text, "noise": rng.normal(size=n)}), pd.Series(label, name="target")


def test_text_is_told_from_categories_and_identifiers():
    n = 60
    frame = pd.DataFrame({
        "review": [f"a long sentence about item {i} and more" for i in range(n)],  # unique, many words
        "car": [f"maker{i % 25} model{i}" for i in range(n)],  # names: two words, most rows their own
        "city": ["new york", "los angeles", "san diego"] * (n // 3),  # two words, few levels: a category
        "code": [f"c{i % 7}" for i in range(n)],
        "row_id": [f"id{i}" for i in range(n)],  # one word, unique: an identifier
    })
    schema = infer_schema(frame)
    assert schema.kinds == {"review": TEXT, "car": TEXT, "city": CATEGORICAL, "code": CATEGORICAL}
    assert "row_id" in schema.dropped


def test_text_features_keep_shared_words_and_survive_saving(tmp_path):
    X, _ = reviews(300)
    column = TextColumn().fit(X["review"].tolist())
    features = column.transform(X["review"].tolist() + [None])
    assert features.shape == (301, len(column.names)) and column.names[0] == "words"
    assert features[0, 0] == 12 and np.isnan(features[-1, 0]) and np.all(features[-1, 1:] == 0)
    assert np.isfinite(features[:-1]).all() and features[:, 1:].std(axis=0).min() > 0
    write_state(tmp_path, "text", column.get_state())
    loaded = TextColumn.from_state(read_state(tmp_path, "text"))
    np.testing.assert_array_equal(loaded.transform(X["review"].tolist()), features[:-1])


def test_encoder_gives_text_columns_numeric_features_and_sources():
    X, _ = reviews(200)
    encoder = TabularEncoder().fit(X)
    table = encoder.transform(X)
    text_columns = [n for n in table.numeric_names if n.startswith("review__")]
    assert "review__words" in text_columns and len(text_columns) > 2
    assert table.categorical.shape[1] == 0  # text is not also a category
    numeric, categorical, raw = encoder.column_sources()["review"]
    assert sorted(table.numeric_names[j] for j in numeric) == sorted(text_columns) and categorical == raw == []
    assert encoder.treatment() == {"review": "text: word count + 16 SVD components of TF-IDF word and char n-grams",
                                   "noise": "numeric"}


def test_a_fit_learns_from_words_and_loads_without_pickle(tmp_path, request):
    X, y = reviews(600)
    X_test, y_test = reviews(300, seed=1)
    model = AutoMLClassifier(time_limit=30, models=["lightgbm", "linear"], random_state=0).fit(X, y)
    assert model.score(X_test, y_test) > 0.9  # the cue word is the only signal
    importance = model.feature_importance(X_test, y_test, n_repeats=2)
    assert importance["importance"].idxmax() == "review"
    model.save(tmp_path / "model")
    proba = model.predict_proba(X_test)
    request.getfixturevalue("no_pickle")
    loaded = automl.load(tmp_path / "model")
    np.testing.assert_allclose(loaded.predict_proba(X_test), proba, rtol=1e-5, atol=1e-6)
