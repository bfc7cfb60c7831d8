"""Every example runs (on small data, with short time limits) so the examples cannot rot."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import dev_dataset

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# Seconds per fit in the examples while testing (they default to 60).
SHORT_LIMIT = "5"

# Each script, and a line its output must contain when it worked.
SCRIPTS = {
    "quickstart.py": "regression R^2 on held-out rows",
    "raw_csv.py": "'customer_id': 'identifier (unique on every row)'",
    "ensemble_strategies.py": "stacking",
    "save_and_load.py": "the loaded model predicts exactly as the original",
    "leaderboard.py": "fastest model within 2% of the best",
}


def test_every_example_script_is_tested():
    assert {p.name for p in EXAMPLES.glob("*.py")} - {"make_kaggle_data.py"} == set(SCRIPTS)


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_example_runs(script, tmp_path):
    env = {**os.environ, "AUTOML_EXAMPLE_TIME_LIMIT": SHORT_LIMIT}
    result = subprocess.run([sys.executable, str(EXAMPLES / script)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert SCRIPTS[script] in result.stdout


def test_kaggle_notebook_writes_a_submission(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    table, target, _ = dev_dataset("titanic")
    sys.path.insert(0, str(EXAMPLES))
    try:
        from make_kaggle_data import make_competition
    finally:
        sys.path.remove(str(EXAMPLES))
    data = tmp_path / "competition"
    make_competition(table, target, data)
    monkeypatch.setenv("AUTOML_DATA_DIR", str(data))
    monkeypatch.setenv("AUTOML_TIME_LIMIT", "10")
    notebook = nbformat.read(EXAMPLES / "kaggle_notebook.ipynb", as_version=4)
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()

    submission = pd.read_csv(tmp_path / "submission.csv")
    sample = pd.read_csv(data / "sample_submission.csv")
    solution = pd.read_csv(data / "solution.csv")
    assert list(submission.columns) == list(sample.columns)
    assert submission["id"].tolist() == sample["id"].tolist()
    accuracy = (submission[target] == solution[target]).mean()
    assert accuracy > 0.7  # titanic: about 0.62 by always guessing "died", above 0.78 with a fitted model
    assert (tmp_path / "report.html").exists() and (tmp_path / "automl-model" / "manifest.json").exists()
