"""Markdown tables from benchmark result CSVs (written by run_benchmark.py).

    python -m benchmarks.report benchmarks/results/dev_peers.csv benchmarks/results/dev_automl.csv \\
        --focus automl --out benchmarks/results/dev.md

One section per (suite, time limit) with:
- dataset x system with the main metric (mean over the seeds that finished; the best
  per dataset in bold; `✗ error` / `✗ timeout` where no seed finished, `†` where some did not);
- the focus system's wins / ties / losses against each peer. Tie rule: the two metrics
  differ by at most --tie (default 0.1%) relative to the larger magnitude,
  |a - b| <= tie * max(|a|, |b|). A failed focus run against a finished peer is a loss,
  the reverse a win, both failed is not counted;
- the mean over datasets of the normalized score (metric - worst) / (best - worst) among
  the systems that finished on that dataset, oriented so 1 = best for every metric
  (lower-is-better log loss and RMSE included); all equal gives 1, a failed run 0;
- median fit and predict seconds, the focus system's median fit time / time limit, and the
  median per-dataset ratios of the focus system's times to each peer's (measured in the
  same suite; ratios are steadier than absolute times on shared machines).
If a (dataset, system, seed) appears several times, its last ok row counts (else its last row).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

HIGHER_IS_BETTER = {"roc_auc": True, "log_loss": False, "rmse": False}
# failures whose cause is known, explained beside them in the report
KNOWN_FAILURES = {
    "Learner is already fit": "AutoGluon bug (AutoGluon issue #4651): without Ray the DyStack sub-fit runs in-process; "
                              "when it trains no model within its 25% of the time limit, the main fit then raises this",
}
PEER_ORDER = ["autogluon_best", "catboost_default", "lightgbm_default"]


def load(paths: list[Path]) -> list[dict]:
    """Rows of all CSVs, one per (suite, time limit, dataset, system, seed)."""
    best: dict[tuple, dict] = {}
    for path in paths:
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                key = (row["suite"], float(row["time_limit"]), row["dataset"], row["system"], int(row["seed"]))
                old = best.get(key)
                if old is None or row["status"] == "ok" or old["status"] != "ok":
                    best[key] = row
    return list(best.values())


def _f(x) -> float:
    return float(x) if x not in ("", None) else float("nan")


def _median(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


def _fmt(x: float, digits: int = 4) -> str:
    if x != x:
        return "—"
    if abs(x) >= 100:
        return f"{x:.1f}"
    return f"{x:.{digits}g}" if abs(x) < 1e-3 and x != 0 else f"{x:.{digits}f}"


def cells(rows: list[dict]) -> dict:
    """(dataset, system) -> {metric, value (mean over ok seeds), status, partial, fit, predict}."""
    groups = defaultdict(list)
    for r in rows:
        groups[(r["dataset"], r["system"])].append(r)
    out = {}
    for key, rs in groups.items():
        ok = [r for r in rs if r["status"] == "ok"]
        failed = [r for r in rs if r["status"] != "ok"]
        out[key] = {
            "task": rs[0]["task"],
            "metric": (ok or rs)[0]["metric"],
            "value": statistics.fmean(_f(r["value"]) for r in ok) if ok else float("nan"),
            "fit": statistics.fmean(_f(r["fit_seconds"]) for r in ok) if ok else float("nan"),
            "predict": statistics.fmean(_f(r["predict_seconds"]) for r in ok) if ok else float("nan"),
            "status": "ok" if ok else failed[-1]["status"],
            "partial": bool(ok and failed),
            "error": failed[-1]["error"] if failed else "",
            "seeds": sorted(int(r["seed"]) for r in rs),
        }
    return out


def compare(a: float, b: float, higher: bool, tie: float) -> int:
    """+1 if a is better than b, 0 for a tie, -1 if worse."""
    if abs(a - b) <= tie * max(abs(a), abs(b)):
        return 0
    return 1 if (a > b) == higher else -1


def normalized(c: dict, datasets: list[str], systems: list[str]) -> dict:
    """system -> list of per-dataset normalized scores (1 = best, 0 = worst or failed)."""
    scores = defaultdict(list)
    for d in datasets:
        ran = [s for s in systems if (d, s) in c]
        ok = {s: c[(d, s)]["value"] for s in ran if c[(d, s)]["status"] == "ok"}
        if not ok:
            continue
        metric = c[(d, next(iter(ok)))]["metric"]
        higher = HIGHER_IS_BETTER.get(metric, True)
        best, worst = (max(ok.values()), min(ok.values())) if higher else (min(ok.values()), max(ok.values()))
        for s in ran:
            if s not in ok:
                scores[s].append(0.0)
            elif best == worst:
                scores[s].append(1.0)
            else:
                scores[s].append((ok[s] - worst) / (best - worst))
    return scores


def header_facts(rows: list[dict]) -> list[str]:
    started = sorted(r["started_at"] for r in rows if r.get("started_at"))
    cores = sorted({r.get("cores", "") for r in rows} - {""})
    gpus = sorted({r.get("gpu", "") for r in rows} - {""})
    lines = [
        f"- Report written: {dt.date.today().isoformat()}; runs from {started[0] if started else '?'} "
        f"to {started[-1] if started else '?'}",
        f"- Machine: {', '.join(cores) or '?'} cores, GPU: {', '.join(gpus) or 'none'}",
        f"- Splits (train_test_split random_state): {', '.join(map(str, sorted({int(r['seed']) for r in rows})))}",
    ]
    by_system = defaultdict(set)
    notes = defaultdict(set)
    commits = defaultdict(set)
    for r in rows:
        if r.get("versions"):
            v = json.loads(r["versions"])
            by_system[r["system"]].add(", ".join(f"{k} {val}" for k, val in sorted(v.items())))
        if r.get("notes"):
            for k, val in json.loads(r["notes"]).items():
                if k.endswith("_absent") and val:
                    notes[r["system"]].add(k[: -len("_absent")])
        if r.get("commit"):
            commits[r["system"]].add(r["commit"])
    loads = [v for r in rows if r.get("notes") for k, v in json.loads(r["notes"]).items() if k.startswith("load1_")]
    if loads:
        lines.append(f"- Machine load (1-min load average at job start/end, other people's jobs included): "
                     f"median {_median(loads):.1f}, max {max(loads):.1f} on {', '.join(cores) or '?'} cores")
    lines.append("- Package versions:")
    for s in sorted(by_system):
        extra = f" (commit {', '.join(sorted(commits[s]))})" if commits[s] else ""
        for v in sorted(by_system[s]):
            lines.append(f"  - `{s}`{extra}: {v}")
    for s in sorted(notes):
        if "ray" in notes[s]:
            lines.append(f"- `{s}`: Ray is not installed, so AutoGluon fits its bagging folds one after "
                         "another (sequentially).")
        if "fastai" in notes[s]:
            lines.append(f"- `{s}`: fastai is not installed, so AutoGluon skips its NeuralNetFastAI models.")
    return lines


def section(suite: str, time_limit: float, rows: list[dict], focus: str, tie: float) -> list[str]:
    c = cells(rows)
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))  # order of first appearance
    present = {r["system"] for r in rows}
    peers = [s for s in PEER_ORDER if s in present] + sorted(present - set(PEER_ORDER) - {focus})
    systems = ([focus] if focus in present else []) + peers
    out = [f"## Suite `{suite}`, time limit {time_limit:g} s", ""] + header_facts(rows) + [""]

    # main table
    out.append("| dataset | task | metric | " + " | ".join(systems) + " |")
    out.append("| --- | --- | --- | " + " | ".join("---:" for _ in systems) + " |")
    for d in datasets:
        present_cells = [c[(d, s)] for s in systems if (d, s) in c]
        metric = next((x["metric"] for x in present_cells if x["status"] == "ok"), present_cells[0]["metric"])
        higher = HIGHER_IS_BETTER.get(metric, True)
        ok_values = [x["value"] for x in present_cells if x["status"] == "ok"]
        best = (max if higher else min)(ok_values) if ok_values else None
        row = [d, present_cells[0]["task"], metric + (" ↑" if higher else " ↓")]
        for s in systems:
            x = c.get((d, s))
            if x is None:
                row.append("")
            elif x["status"] != "ok":
                row.append(f"✗ {x['status']}")
            else:
                text = _fmt(x["value"])
                if best is not None and compare(x["value"], best, higher, tie) == 0:
                    text = f"**{text}**"
                row.append(text + (" †" if x["partial"] else ""))
        out.append("| " + " | ".join(row) + " |")
    out.append("")
    out.append(f"Bold: best on the dataset (within the tie rule, {tie:.2%} relative). "
               "✗ no seed finished (error or timeout, listed below). † some seeds failed (mean over the rest). "
               "↑ higher is better, ↓ lower is better.")
    failures = [(d, s, c[(d, s)]) for d in datasets for s in systems
                if (d, s) in c and c[(d, s)]["status"] != "ok"]
    if failures:
        out.append("")
        out.append("Failures:")
        for d, s, x in failures:
            why = next((v for k, v in KNOWN_FAILURES.items() if k in x["error"]), "")
            out.append(f"- {d} / {s}: {x['status']}: {x['error'][:200]}" + (f" ({why})" if why else ""))
    out.append("")

    # summary table
    scores = normalized(c, datasets, systems)
    out.append("| system | datasets ok | mean normalized score | median fit s | median predict s |")
    out.append("| --- | ---: | ---: | ---: | ---: |")
    for s in systems:
        mine = [c[(d, s)] for d in datasets if (d, s) in c]
        n_ok = sum(x["status"] == "ok" for x in mine)
        mean_score = statistics.fmean(scores[s]) if scores[s] else float("nan")
        out.append(f"| {s} | {n_ok}/{len(mine)} | {_fmt(mean_score, 3)} | "
                   f"{_fmt(_median([x['fit'] for x in mine]), 2)} | {_fmt(_median([x['predict'] for x in mine]), 3)} |")
    out.append("")
    out.append("Normalized score per dataset: (metric - worst) / (best - worst) among the systems that finished, "
               "1 = best, 0 = worst or failed; mean over datasets.")
    out.append("")

    # focus against each peer
    if focus not in present:
        out.append(f"(No `{focus}` rows in these CSVs: no wins / ties / losses.)")
        out.append("")
        return out
    fit_ratio = _median([c[(d, focus)]["fit"] / time_limit for d in datasets if (d, focus) in c])
    out.append(f"`{focus}` median fit time / time limit: {_fmt(fit_ratio, 3)}")
    out.append("")
    out.append(f"| `{focus}` against | wins | ties | losses | median fit-time ratio | median predict-time ratio |")
    out.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    for p in peers:
        w = t = l = 0
        fit_r, pred_r = [], []
        for d in datasets:
            a, b = c.get((d, focus)), c.get((d, p))
            if a is None or b is None:
                continue
            if a["status"] == "ok" and b["status"] == "ok":
                r = compare(a["value"], b["value"], HIGHER_IS_BETTER.get(a["metric"], True), tie)
                w, t, l = w + (r > 0), t + (r == 0), l + (r < 0)
                if b["fit"] > 0:
                    fit_r.append(a["fit"] / b["fit"])
                if b["predict"] > 0:
                    pred_r.append(a["predict"] / b["predict"])
            elif a["status"] == "ok":
                w += 1
            elif b["status"] == "ok":
                l += 1
        out.append(f"| {p} | {w} | {t} | {l} | {_fmt(_median(fit_r), 3)} | {_fmt(_median(pred_r), 3)} |")
    out.append("")
    out.append(f"Tie: |a - b| <= {tie:.2%} of max(|a|, |b|). Time ratios: `{focus}`'s seconds / the peer's, "
               "per dataset where both finished, median over datasets.")
    out.append("")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csvs", nargs="+", type=Path, help="result CSVs from run_benchmark.py")
    ap.add_argument("--focus", default="automl", help="system compared against the others (default automl)")
    ap.add_argument("--tie", type=float, default=0.001, help="relative difference counted as a tie (default 0.001)")
    ap.add_argument("--out", type=Path, help="markdown file to write (default: print)")
    args = ap.parse_args(argv)

    missing = [str(p) for p in args.csvs if not p.exists()]
    if missing:
        sys.exit(f"error: no such CSV: {', '.join(missing)}")
    rows = load(args.csvs)
    groups = defaultdict(list)
    for r in rows:
        groups[(r["suite"], float(r["time_limit"]))].append(r)
    lines = ["# Benchmark results", "",
             f"Protocol: shared/BENCHMARK.md. Sources: {', '.join(p.name for p in args.csvs)}.", ""]
    for (suite, time_limit), rs in sorted(groups.items()):
        lines += section(suite, time_limit, rs, args.focus, args.tie)
    text = "\n".join(lines) + "\n"
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        print(f"wrote {args.out}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
