"""Run systems on a benchmark suite, following ../shared/BENCHMARK.md.

One subprocess per (dataset, system, seed), hard-killed (with all its children) at
3 x time limit + 120 s. Each finished job appends one row to the result CSV at once,
so a long run can be stopped and picked up again with --resume.

Examples (from the repository root):

    # the peers, in their own virtual environment (see benchmarks/README.md)
    python -m benchmarks.run_benchmark --systems catboost_default,lightgbm_default,autogluon_best \\
        --out benchmarks/results/dev_peers.csv --resume

    # the project's own system, with the current interpreter
    python -m benchmarks.run_benchmark --systems automl --out benchmarks/results/dev_automl.csv

    # a variant, recorded under its own name
    python -m benchmarks.run_benchmark --systems automl --system-name automl_no_tabm \\
        --automl-kwargs '{"models": ["lightgbm", "catboost"]}' --out benchmarks/results/dev_variants.csv
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .protocol import git_commit, resolve_suite

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
DEFAULT_PEER_PYTHON = "/work/peers-venv/bin/python"
PEERS = {"catboost_default", "lightgbm_default", "autogluon_best"}
KNOWN_SYSTEMS = PEERS | {"automl"}

COLUMNS = [
    "suite", "dataset", "task", "system", "seed", "time_limit",
    "metric", "value", "second_metric", "second_value",
    "fit_seconds", "predict_seconds", "status", "error",
    "wall_seconds", "started_at", "cores", "gpu", "versions", "commit", "notes",
]


def gpu_name() -> str:
    """'none' unless nvidia-smi lists a GPU."""
    if not shutil.which("nvidia-smi"):
        return "none"
    try:
        names = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                               capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "none"
    return "; ".join(names.splitlines()) or "none"


def done_keys(out: Path) -> set:
    """(dataset, system, seed, time_limit) of rows already finished with status ok."""
    if not out.exists():
        return set()
    with open(out, newline="") as f:
        return {(r["dataset"], r["system"], int(r["seed"]), float(r["time_limit"]))
                for r in csv.DictReader(f) if r["status"] == "ok"}


def append_row(out: Path, row: dict) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    new = not out.exists() or out.stat().st_size == 0
    with open(out, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerow(row)


def run_one(python: str, system: str, suite_dir: Path, dataset: str, seed: int, time_limit: float,
            automl_kwargs: str, log_path: Path) -> dict:
    """Run one job in its own process group; kill the whole group on timeout."""
    workdir = Path(tempfile.mkdtemp(prefix="bench_"))  # stray files a library writes land here
    result_path = workdir / "result.json"
    cmd = [python, "-m", "benchmarks.systems", "--suite-dir", str(suite_dir), "--dataset", dataset,
           "--system", system, "--seed", str(seed), "--time-limit", str(time_limit),
           "--automl-kwargs", automl_kwargs, "--result", str(result_path)]
    # The checkout is on the path: the benchmarks package for every system, and the automl package
    # from this checkout even when it is not pip-installed.
    env = dict(os.environ)
    kept = [env.get("PYTHONPATH", "")] if system == "automl" else []
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(REPO_ROOT), *kept] if p)
    hard_limit = 3 * time_limit + 120
    log_path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with open(log_path, "w") as log:
        log.write(" ".join(cmd) + "\n")
        log.flush()
        proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            returncode = proc.wait(timeout=hard_limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            returncode = None
        except BaseException:  # Ctrl-C or SIGTERM of this driver: take the job down with it
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    wall = time.perf_counter() - start
    try:  # children left behind (e.g. AutoGluon's workers) go too
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass

    if returncode is None:
        result = {"status": "timeout", "error": f"killed after {hard_limit:.0f} s (3 x time limit + 120 s)"}
    elif result_path.exists():
        result = json.loads(result_path.read_text())
    else:
        tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
        result = {"status": "error", "error": f"exit code {returncode}, no result: " + " | ".join(tail)}
    result["wall_seconds"] = wall
    subprocess.run(["rm", "-rf", str(workdir)])
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", default="dev", help="suite name under shared/datasets/, or a folder (default dev)")
    ap.add_argument("--systems", default="automl", help="comma-separated: " + ", ".join(sorted(KNOWN_SYSTEMS)))
    ap.add_argument("--datasets", default="", help="comma-separated dataset names (default: all in the manifest)")
    ap.add_argument("--time-limit", type=float, default=120, help="seconds per dataset (default 120)")
    ap.add_argument("--seeds", default="0", help="comma-separated split random_states (default 0)")
    ap.add_argument("--out", type=Path, help="result CSV (default benchmarks/results/<suite>_<systems>.csv)")
    ap.add_argument("--resume", action="store_true", help="skip jobs already in --out with status ok")
    ap.add_argument("--peer-python", default=DEFAULT_PEER_PYTHON, help="interpreter for the peer systems")
    ap.add_argument("--python", default=sys.executable, help="interpreter for the automl system (default: this one)")
    ap.add_argument("--automl-kwargs", default="{}", help="JSON dict of extra AutoML constructor arguments")
    ap.add_argument("--system-name", default="", help="record the automl system under this name (for variants)")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))  # so the running job is killed too

    suite_dir = resolve_suite(args.suite)
    manifest = json.loads((suite_dir / "manifest.json").read_text())
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = sorted(set(systems) - KNOWN_SYSTEMS)
    if unknown:
        sys.exit(f"error: unknown systems {unknown}; known: {sorted(KNOWN_SYSTEMS)}")
    try:
        automl_kwargs = json.dumps(json.loads(args.automl_kwargs))
    except json.JSONDecodeError as exc:
        sys.exit(f"error: --automl-kwargs is not JSON: {exc}")
    if args.system_name and systems != ["automl"]:
        sys.exit("error: --system-name labels the automl system; use it with --systems automl alone")
    wanted = [d.strip() for d in args.datasets.split(",") if d.strip()]
    missing = sorted(set(wanted) - {e["name"] for e in manifest})
    if missing:
        sys.exit(f"error: datasets {missing} are not in {suite_dir}/manifest.json")
    entries = [e for e in manifest if not wanted or e["name"] in wanted]
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    out = args.out or HERE / "results" / f"{suite_dir.name}_{'_'.join(systems)}.csv"
    logs = out.parent / "logs" / out.stem

    for system in systems:
        python = args.python if system == "automl" else args.peer_python
        if not Path(python).exists() and not shutil.which(python):
            sys.exit(f"error: interpreter {python} for {system} not found (see benchmarks/README.md)")

    skip = done_keys(out) if args.resume else set()
    commit = git_commit()
    gpu = gpu_name()
    # system by system, so that the quick systems' results are all in early
    jobs = [(e, s, seed) for seed in seeds for s in systems for e in entries]
    print(f"{len(jobs)} jobs on suite {suite_dir.name} ({suite_dir}), time limit {args.time_limit:g} s, "
          f"results to {out}", flush=True)
    for i, (entry, system, seed) in enumerate(jobs, 1):
        label = args.system_name or system
        key = (entry["name"], label, seed, float(args.time_limit))
        if key in skip:
            print(f"[{i}/{len(jobs)}] {entry['name']} {label} seed {seed}: already done, skipped", flush=True)
            continue
        python = args.python if system == "automl" else args.peer_python
        started = dt.datetime.now().isoformat(timespec="seconds")
        load_start = os.getloadavg()[0]  # the machine is shared: note how busy it was
        result = run_one(python, system, suite_dir, entry["name"], seed, args.time_limit,
                         automl_kwargs if system == "automl" else "{}",
                         logs / f"{entry['name']}__{label}__seed{seed}.log")
        versions = result.get("versions", {})
        if system == "automl" and automl_kwargs != "{}":
            versions["automl_kwargs"] = json.loads(automl_kwargs)
        row = {
            "suite": suite_dir.name, "dataset": entry["name"], "task": entry["task"], "system": label,
            "seed": seed, "time_limit": args.time_limit, "started_at": started,
            "cores": os.cpu_count(), "gpu": gpu, "versions": json.dumps(versions, sort_keys=True),
            "commit": commit if system == "automl" else "",
            "notes": json.dumps({**result.get("notes", {}), "load1_start": round(load_start, 2),
                                 "load1_end": round(os.getloadavg()[0], 2)}),
            **{k: result.get(k, "") for k in ["metric", "value", "second_metric", "second_value", "fit_seconds",
                                              "predict_seconds", "status", "error", "wall_seconds"]},
        }
        append_row(out, row)
        shown = f"{row['metric']}={float(row['value']):.5f} fit {float(row['fit_seconds']):.1f}s" \
            if row["status"] == "ok" else f"{row['status']}: {row['error']}"
        print(f"[{i}/{len(jobs)}] {entry['name']} {label} seed {seed}: {shown} "
              f"(wall {result['wall_seconds']:.0f}s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
