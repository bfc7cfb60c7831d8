"""TabM on an NVIDIA GPU, everything the TabM issue asks for in one command:

    python -m benchmarks.studies.tabm_gpu --dataset adult

1. fits the full TabM (k = 32, 2 x 512, bf16) on the dataset's benchmark split on the GPU and
   records its per-epoch seconds, best epoch and test metric;
2. measures rows/s of training steps and of prediction at batch sizes 256 to 8,192;
3. saves the fitted model with joblib, loads it in a fresh process that sees no GPU
   (CUDA_VISIBLE_DEVICES=""), predicts the test part there and compares with the GPU predictions;
4. does the same for a whole estimator: AutoML*(models=["tabm"], device="cuda") fitted, saved
   with ``save``, loaded with ``automl.load`` on the CPU.

Writes benchmarks/results/tabm_gpu.csv (one row per measurement) and prints a summary. Needs
torch with CUDA, tabm and rtdl_num_embeddings (pure Python wheels) and this checkout.
"""
from __future__ import annotations

import argparse
import copy
import csv
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import joblib
import numpy as np
import torch

from .. import protocol
from ..protocol import REPO, resolve_suite
from .tabm_data import load_encoded

from automl.budget import TimeBudget
from automl.models.tabm import TabMModel
from automl.folds import inner_split

BATCH_SIZES = (256, 512, 1024, 2048, 4096, 8192)

# Run in a process without a GPU: load a pickled model or a saved estimator, predict, save .npy.
CPU_PREDICT = """
import joblib, numpy as np, torch
assert not torch.cuda.is_available()
from benchmarks.studies.tabm_data import load_encoded
data = load_encoded({dataset!r})
if {estimator}:
    import automl
    from benchmarks import protocol
    X, y = protocol.load_dataset(*{manifest})
    _, X_test, _, _ = protocol.split(X, y, data.info.task, 0)
    model = automl.load({path!r})
    pred = model.predict(X_test) if data.info.task == "regression" else model.predict_proba(X_test)
else:
    pred = joblib.load({path!r}).predict(data.X_test)
np.save({out!r}, np.asarray(pred, dtype=np.float64))
"""


def fit_on_gpu(data, time_limit: float) -> tuple[TabMModel, dict]:
    fit_rows, val_rows = inner_split(data.y_train, data.info.task, seed=0)
    model = TabMModel({}, data.info, seed=0, n_threads=1, device="cuda")
    start = time.perf_counter()
    model.fit(data.X_train.take(fit_rows), data.y_train[fit_rows], data.X_train.take(val_rows),
              data.y_train[val_rows], budget=TimeBudget(time_limit))
    torch.cuda.synchronize()
    fit_seconds = time.perf_counter() - start
    seconds = [h["seconds"] for h in model.history_]
    return model, {"measure": "fit", "fit_seconds": fit_seconds, "epochs": len(seconds),
                   "best_epoch": model.best_epoch_, "median_epoch_seconds": float(np.median(seconds)),
                   "train_rows_per_second": len(fit_rows) / float(np.median(seconds)),
                   "test_score": data.score(data.y_test, model.predict(data.X_test))}


def throughput(model: TabMModel, data, n_steps: int = 20) -> list[dict]:
    """rows/s of training steps (forward, backward, AdamW step) and of prediction per batch size."""
    x_num, x_cat = model.inputs_.transform(data.X_train)
    device = torch.device(model.device)
    x_num = None if x_num is None else torch.as_tensor(x_num, device=device)
    x_cat = None if x_cat is None else torch.as_tensor(x_cat, device=device)
    y = torch.as_tensor(data.y_train, device=device)
    y = y.long() if data.info.is_classification else y.float()
    rows = []
    for batch_size in BATCH_SIZES:
        index = torch.randint(len(y), (batch_size,), device=device)
        xb_num = None if x_num is None else x_num[index]
        xb_cat = None if x_cat is None else x_cat[index]
        module = copy.deepcopy(model.module_).to(device).train()
        optimizer = torch.optim.AdamW(module.parameters(), lr=2e-3)

        def train_step():
            loss = model._member_loss(model._forward(module, xb_num, xb_cat), y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

        def predict_step():
            with torch.no_grad():
                model._forward(module.eval(), xb_num, xb_cat)

        for measure, step in (("train_step", train_step), ("predict", predict_step)):
            step()  # warm-up: kernels, allocations
            _synchronize(device)
            start = time.perf_counter()
            for _ in range(n_steps):
                step()
            _synchronize(device)
            seconds = (time.perf_counter() - start) / n_steps
            rows.append({"measure": measure, "batch_size": batch_size, "seconds_per_batch": seconds,
                         "rows_per_second": batch_size / seconds})
    return rows


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":  # CUDA runs asynchronously: wait before reading the clock
        torch.cuda.synchronize()


def predict_on_cpu(dataset: str, path: Path, estimator: bool) -> np.ndarray:
    out = path.with_suffix(".npy")
    suite_dir = resolve_suite("dev")
    entry = next(e for e in protocol.read_manifest(suite_dir) if e["name"] == dataset)
    code = CPU_PREDICT.format(dataset=dataset, estimator=estimator,
                              manifest=(str(suite_dir), entry), path=str(path), out=str(out))
    env = {"CUDA_VISIBLE_DEVICES": "", "PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    return np.load(out)


def estimator_round_trip(dataset: str, time_limit: float, folder: Path) -> dict:
    from automl import AutoMLClassifier, AutoMLRegressor

    suite_dir = resolve_suite("dev")
    entry = next(e for e in protocol.read_manifest(suite_dir) if e["name"] == dataset)
    X, y = protocol.load_dataset(suite_dir, entry)
    X_train, X_test, y_train, _ = protocol.split(X, y, entry["task"], 0)
    cls = AutoMLRegressor if entry["task"] == "regression" else AutoMLClassifier
    model = cls(models=["tabm"], device="cuda", time_limit=time_limit, verbosity=1, random_state=0)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start
    gpu = model.predict(X_test) if entry["task"] == "regression" else model.predict_proba(X_test)
    model.save(folder)
    cpu = predict_on_cpu(dataset, folder, estimator=True)
    return {"measure": "estimator_gpu_fit_cpu_predict", "fit_seconds": fit_seconds,
            "max_abs_diff_gpu_vs_cpu": float(np.max(np.abs(np.asarray(gpu, dtype=np.float64) - cpu)))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="adult")
    ap.add_argument("--time-limit", type=float, default=600.0, help="seconds for the single TabM fit")
    ap.add_argument("--estimator-time-limit", type=float, default=300.0)
    ap.add_argument("--out", type=Path, default=protocol.RESULTS / "tabm_gpu.csv")
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        sys.exit("No CUDA device is visible to torch: run this on a machine with an NVIDIA GPU.")

    data = load_encoded(args.dataset)
    model, fit_row = fit_on_gpu(data, args.time_limit)
    rows = [fit_row, *throughput(model, data)]
    gpu_pred = model.predict(data.X_test)
    with tempfile.TemporaryDirectory() as tmp:
        joblib.dump(model, Path(tmp) / "tabm.joblib")
        cpu_pred = predict_on_cpu(args.dataset, Path(tmp) / "tabm.joblib", estimator=False)
        rows.append({"measure": "model_gpu_fit_cpu_predict", "test_score": data.score(data.y_test, cpu_pred),
                     "max_abs_diff_gpu_vs_cpu": float(np.max(np.abs(gpu_pred - cpu_pred)))})
        rows.append(estimator_round_trip(args.dataset, args.estimator_time_limit, Path(tmp) / "estimator"))

    stamp = {"date": dt.datetime.now().isoformat(timespec="seconds"), "dataset": args.dataset,
             "gpu": torch.cuda.get_device_name(), "torch": torch.__version__}
    columns = list(stamp) + sorted({key for row in rows for key in row})
    new = not args.out.exists()
    with open(args.out, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        if new:
            writer.writeheader()
        writer.writerows({**stamp, **row} for row in rows)
    for row in rows:
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
