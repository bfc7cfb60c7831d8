"""The automl command: each subcommand on CSV files, its errors, and its progress display."""
from __future__ import annotations

import io
import json
import logging
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from automl import load
from automl.portfolio import load_portfolio
from automl.shell.cli import main
from automl.persistence import MANIFEST
from automl.shell.progress import LiveBar, show_progress

from conftest import DEV_SUITE, dev_dataset

# Fast settings on the command line: two quick families and a short limit.
FAST_ARGS = ["--models", "lightgbm,linear", "--time-limit", "10", "--quiet"]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A model folder fitted once on a small CSV with an id column; the CSVs beside it."""
    folder = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    n = 240
    frame = pd.DataFrame({"passenger": np.arange(1000, 1000 + n), "age": rng.normal(40, 12, n),
                          "cabin": rng.choice(["A", "B", "C"], n), "joined": pd.date_range("2021-01-01",
                                                                                          periods=n).astype(str)})
    frame["label"] = np.where(frame["age"] + (frame["cabin"] == "A") * 15 + rng.normal(0, 5, n) > 45, "yes", "no")
    frame.iloc[:200].to_csv(folder / "train.csv", index=False)
    frame.iloc[200:].drop(columns="label").to_csv(folder / "test.csv", index=False)
    code = main(["fit", str(folder / "train.csv"), "--target", "label", "--id-column", "passenger",
                 "--out", str(folder / "model"), *FAST_ARGS])
    assert code == 0
    return folder


def test_fit_excludes_the_id_column_and_remembers_it(fitted):
    model = load(fitted / "model")
    assert "passenger" not in model.feature_names_in_
    assert set(model.classes_) == {"no", "yes"}
    assert json.loads((fitted / "model" / "columns.json").read_text()) == {
        "target": "label", "id_column": "passenger", "weight_column": None, "group_column": None}


def test_fit_keeps_the_run_unless_no_run_and_resume_continues_it(fitted, tmp_path):
    assert (fitted / "model" / "store" / "models.jsonl").exists()  # the run, for fit_ensemble and --resume
    lean = tmp_path / "lean"
    assert main(["fit", str(fitted / "train.csv"), "--target", "label", "--id-column", "passenger",
                 "--out", str(lean), "--no-run", "--refit", *FAST_ARGS]) == 0
    kept = load(lean)
    assert kept.refit == "auto" and not (lean / "store").exists() and kept.store_ is None
    assert sorted(p.name for p in (lean / "models").iterdir()) == \
        sorted(kept.records_[j].name for j in kept.ensemble_.used_models)
    resumed = tmp_path / "resumed"
    shutil.copytree(fitted / "model", resumed)
    before = load(resumed)
    assert main(["fit", str(fitted / "train.csv"), "--target", "label", "--id-column", "passenger",
                 "--out", str(resumed), "--resume", "--no-refit", *FAST_ARGS]) == 0
    after = load(resumed)
    assert after.refit is False and not after.refitted_
    kept = len(before.records_)  # every finished model was kept, nothing retrained (a busy machine may have
    assert [r.name for r in after.records_][:kept] == [r.name for r in before.records_]  # left some to train)
    assert np.array_equal(after.store_.oof[:kept], before.store_.oof)
    assert main(["fit", str(fitted / "train.csv"), "--target", "label", "--out", str(tmp_path / "none"),
                 "--resume", *FAST_ARGS]) != 0  # nothing to resume


def test_predict_writes_the_id_and_the_target_column(fitted):
    out = fitted / "submission.csv"
    assert main(["predict", str(fitted / "model"), str(fitted / "test.csv"), "--out", str(out)]) == 0
    submission = pd.read_csv(out)
    assert list(submission.columns) == ["passenger", "label"]
    assert submission["passenger"].tolist() == list(range(1200, 1240))
    assert set(submission["label"]) <= {"no", "yes"}


def test_predict_proba_writes_one_column_per_class(fitted):
    out = fitted / "proba.csv"
    assert main(["predict", str(fitted / "model"), str(fitted / "test.csv"), "--out", str(out), "--proba"]) == 0
    proba = pd.read_csv(out)
    assert list(proba.columns) == ["passenger", "no", "yes"]
    np.testing.assert_allclose(proba[["no", "yes"]].sum(axis=1), 1.0, atol=1e-6)


@pytest.mark.parametrize("name, write", [
    ("test.tsv", lambda frame, path: frame.to_csv(path, sep="\t", index=False)),
    ("test_semicolons.csv", lambda frame, path: frame.to_csv(path, sep=";", index=False)),
    ("test.csv.gz", lambda frame, path: frame.to_csv(path, index=False, compression="gzip")),
])
def test_predict_reads_other_delimiters_and_gzip(fitted, name, write):
    write(pd.read_csv(fitted / "test.csv"), fitted / name)
    assert main(["predict", str(fitted / "model"), str(fitted / "test.csv"), "--out", str(fitted / "a.csv")]) == 0
    assert main(["predict", str(fitted / "model"), str(fitted / name), "--out", str(fitted / "b.csv")]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(fitted / "a.csv"), pd.read_csv(fitted / "b.csv"))


def test_leaderboard_and_info_describe_the_model(fitted, capsys):
    assert main(["leaderboard", str(fitted / "model")]) == 0
    board = capsys.readouterr().out
    assert "oof_roc_auc" in board
    assert all(name in board for name in load(fitted / "model").leaderboard()["config"])
    assert main(["info", str(fitted / "model")]) == 0
    info = capsys.readouterr().out
    assert "task binary" in info and "classes    no, yes" in info
    assert "id column passenger" in info
    assert "joined" in info and "datetime" in info and "cabin" in info and "categorical" in info
    assert "scikit-learn" in info


def test_report_writes_a_self_contained_page(fitted):
    out = fitted / "report.html"
    assert main(["report", str(fitted / "model"), "--out", str(out)]) == 0
    page = out.read_text()
    assert "Confusion matrix" in page and page.count("<svg") >= 3
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched


@pytest.mark.parametrize("argv, message", [
    (["fit", "{dir}/absent.csv", "--target", "label"], "File not found"),
    (["fit", "{dir}/train.csv", "--target", "nope"], "Column 'nope' not found"),
    (["fit", "{dir}/train.csv", "--target", "label", "--models", "nonsense", "--out", "{dir}/m2"],
     "models must be None or a non-empty list of model families"),
    (["predict", "{dir}/absent-model", "{dir}/test.csv"], "Model folder not found"),
    (["predict", "{dir}/model", "{dir}/test.csv", "--id-column", "nope"], "Column 'nope' not found"),
    (["predict", "{dir}/model", "{dir}/test.csv", "--proba", "--out", "{dir}/x.csv", "--id-column", "age"], None),
    (["fit", "{dir}/train.csv", "--target", "label", "--out", "{dir}"], "is not an automl model folder"),
])
def test_mistakes_end_with_one_line_and_a_non_zero_code(fitted, capsys, argv, message):
    code = main([a.format(dir=fitted) for a in argv])
    err = capsys.readouterr().err
    if message is None:  # a control: the same command with valid arguments succeeds
        assert code == 0
        return
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("automl: error:") and message in lines[0]


def test_a_model_folder_from_a_newer_library_is_refused(fitted, tmp_path, capsys):
    copy = shutil.copytree(fitted / "model", tmp_path / "new-model")
    manifest = json.loads((copy / MANIFEST).read_text())
    manifest["requires"] = {"lightgbm": "99.1.0"}  # as if saved by a LightGBM this machine has not got
    (copy / MANIFEST).write_text(json.dumps(manifest))
    assert main(["info", str(copy)]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "lightgbm 99.1.0" in err and "upgrade lightgbm" in err


def test_a_folder_saved_as_a_pickle_by_an_earlier_version_is_refused_without_opening_it(tmp_path, capsys):
    old = tmp_path / "old-model"
    old.mkdir()
    (old / "model.joblib").write_bytes(b"not opened")
    (old / "info.json").write_text("{}")
    assert main(["predict", str(old), str(tmp_path / "test.csv")]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "earlier automl as a pickle" in err and "Fit the model again" in err


@pytest.mark.parametrize("command", ["fit", "predict", "leaderboard", "info", "report"])
def test_help_shows_an_example(command):
    result = subprocess.run([sys.executable, "-m", "automl", command, "--help"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0
    assert "example:" in result.stdout and f"automl {command}" in result.stdout


def test_progress_is_plain_lines_off_a_terminal_and_silent_when_quiet():
    stream = io.StringIO()
    with show_progress(quiet=False, time_limit=None, stream=stream):
        logging.getLogger("automl").warning("model x failed")
    assert stream.getvalue().endswith("model x failed\n") and "\r" not in stream.getvalue()
    with show_progress(quiet=True, time_limit=None, stream=stream):
        assert logging.getLogger("automl").handlers == []


@pytest.mark.parametrize("quiet", [False, True])
def test_fit_output_off_a_terminal(fitted, tmp_path, quiet):
    command = [sys.executable, "-m", "automl", "fit", str(fitted / "train.csv"), "--target", "label",
               "--models", "linear", "--time-limit", "5", "--out", str(tmp_path / "model")]
    result = subprocess.run(command + (["--quiet"] if quiet else []), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    if quiet:
        assert result.stdout == "" and result.stderr == ""
    else:  # a log line per model (no carriage returns: a log file is not a terminal), then the leaderboard
        assert "OOF roc_auc" in result.stderr and "on cpu" in result.stderr and "\r" not in result.stderr
        first_linear = load_portfolio(None, ["linear"])[0].name
        assert first_linear in result.stdout and "Model saved to" in result.stdout


def test_the_live_bar_shows_models_done_best_score_and_time_left():
    stream = io.StringIO()
    bar = LiveBar(stream, time_limit=60)
    record = logging.LogRecord("automl", logging.INFO, __file__, 1, "[2/5] lightgbm_base done", None, None)
    record.progress = {"done": 2, "planned": 5, "model": "lightgbm_base", "metric": "roc_auc", "best_score": 0.8734}
    bar.emit(record)
    line = bar.line(width=200)
    assert "2/5 models" in line and "best roc_auc 0.87340" in line and "s left" in line
    assert "lightgbm_base done\n" in stream.getvalue() and stream.getvalue().count("\r") >= 2
    assert len(bar.line(width=30)) < 30


@pytest.mark.parametrize("name", ["titanic", "penguins", "diamonds"])
def test_every_command_on_the_dev_suite_raw_tables(name, tmp_path):
    frame, target, task = dev_dataset(name)
    source = DEV_SUITE / f"{name}.csv.gz"
    if len(frame) > 3000:  # diamonds: a sample keeps the test short; the reader still sees a real file
        source = tmp_path / f"{name}.csv"
        frame.sample(3000, random_state=0).to_csv(source, index=False)
    model, out = tmp_path / "model", tmp_path / "predictions.csv"
    assert main(["fit", str(source), "--target", target, "--out", str(model), *FAST_ARGS]) == 0
    assert load(model).task_ == task
    assert main(["predict", str(model), str(source), "--out", str(out)]) == 0
    predictions = pd.read_csv(out)
    assert list(predictions.columns) == [target] and len(predictions) == len(pd.read_csv(source))
    if task == "regression":
        truth = pd.read_csv(source)[target]
        assert np.corrcoef(predictions[target], truth)[0, 1] > 0.9
    else:
        assert set(predictions[target]) <= set(frame[target].dropna())
    for command in (["leaderboard", str(model)], ["info", str(model)], ["report", str(model)]):
        assert main(command) == 0
    assert (model / "report.html").exists()
