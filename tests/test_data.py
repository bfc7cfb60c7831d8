"""Schema inference and encoding."""
import numpy as np
import pandas as pd
import pytest

from automl.data.encoder import MISSING_CODE, TabularEncoder
from automl.data.frame import align_columns, as_frame
from automl.data.schema import CATEGORICAL, DATETIME, NUMERIC, infer_schema
from automl.data.views import LinearView, tree_view


def test_schema_infers_each_kind_and_drops_useless_columns():
    n = 40
    frame = pd.DataFrame({
        "num": np.linspace(0, 1, n),
        "text": ["a", "b"] * (n // 2),
        "flag": [True, False] * (n // 2),
        "cat": pd.Categorical(["u", "v", "w", "u"] * (n // 4)),
        "code": [1, 2, 3, 4] * (n // 4),  # small integer codes -> categories
        "date": pd.date_range("2020-01-01", periods=n).astype(str),
        "numbers_as_text": [str(i) for i in range(n)],
        "mixed": [1, "x", 2.5, "y"] * (n // 4),
        "const": 7,
        "empty": [None] * n,
        "row_id": [f"id{i}" for i in range(n)],
    })
    schema = infer_schema(frame)
    assert schema.kinds == {"num": NUMERIC, "text": CATEGORICAL, "flag": CATEGORICAL, "cat": CATEGORICAL,
                            "code": CATEGORICAL, "date": DATETIME, "numbers_as_text": NUMERIC,
                            "mixed": CATEGORICAL}
    assert schema.dropped == {"const": "constant", "empty": "all missing",
                              "row_id": "identifier (unique on every row)"}


def test_encoder_handles_unseen_levels_new_missing_values_and_infinities():
    train = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0] * 5, "c": ["a", "b", "a", "b"] * 5,
                          "d": pd.date_range("2021-01-01", periods=20, freq="77h").astype(str)})
    encoder = TabularEncoder().fit(train)
    test = pd.DataFrame({"x": [np.inf, None], "c": ["zzz", None], "d": ["2021-02-01 05:00", None]})
    table = encoder.transform(test)
    assert np.isnan(table.numeric[:, 0]).all()  # inf and None both become missing
    other = table.cardinalities[0] - 1
    assert table.categorical[:, 0].tolist() == [other, MISSING_CODE]
    names = table.numeric_names
    assert names[0] == "x" and {"d__month", "d__day", "d__hour", "d__ordinal"} <= set(names)
    assert table.numeric[0, names.index("d__hour")] == 5


def test_rare_levels_share_the_other_code():
    train = pd.DataFrame({"c": ["common"] * 30 + ["rare"]})
    table = TabularEncoder().fit(train).transform(train)
    assert table.cardinalities == [2]
    assert table.categorical[-1, 0] == 1 and (table.categorical[:-1, 0] == 0).all()


def test_views_shape_and_missing():
    frame = pd.DataFrame({"x": [1.0, None, 3.0, 5.0] * 5, "c": ["a", "b", None, "a"] * 5})
    table = TabularEncoder().fit(frame).transform(frame)
    matrix, cats = tree_view(table)
    assert matrix.shape == (20, 2) and cats == [1]
    assert np.isnan(matrix[1, 0]) and np.isnan(matrix[2, 1])
    linear = LinearView().fit(table).transform(table)
    assert not np.isnan(linear).any()
    # standardized x + missing indicator + one-hot of 3 codes ("a", "b", other) + missing level
    assert linear.shape == (20, 1 + 1 + 4)
    assert np.allclose(linear[:, 2:].sum(axis=1), 1.0)


def test_frame_checks():
    with pytest.raises(ValueError, match="Duplicate column names"):
        as_frame(pd.DataFrame([[1, 2]], columns=["a", "a"]))
    assert list(as_frame(np.zeros((2, 3))).columns) == ["x0", "x1", "x2"]
    frame = pd.DataFrame({"a": [1], "b": [2], "extra": [3]})
    with pytest.warns(UserWarning, match="extra"):
        assert list(align_columns(frame, ["b", "a"], array_input=False, owner="AutoMLClassifier").columns) == ["b", "a"]
    with pytest.raises(ValueError, match=r"missing at predict: \['z'\]"):
        align_columns(frame, ["a", "z"], array_input=False, owner="AutoMLClassifier")

