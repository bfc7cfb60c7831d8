"""The budget stress matrix and the search's honesty figure, before and after a change.

    python -m benchmarks.stress_report --before benchmarks/results/stress_before.csv \\
        --after benchmarks/results/stress_after.csv --peers benchmarks/results/dev_peers.csv \\
        --out benchmarks/results/stress.md

Reads result CSVs of run_benchmark.py whose automl rows carry the notes systems.py writes
(families trained, the ensemble's OOF score, the single best model's OOF and test scores).

- Stress matrix: per (dataset, time limit) the test metric before and after, catboost_default's
  (no time limit) beside them, whether a boosting model was trained, and fit seconds / limit.
- Honesty: optimism = (test loss - OOF loss) / test loss, with loss = 1 - AUC, log loss or
  RMSE; for the chosen ensemble (its OOF score as the fit reports it, weights fitted on those same
  rows; and, where recorded, the search's honest estimate: cross-fitted rows plus the guard
  slice) and for the single best model of the same fit. The search is honest when the ensemble
  is no more optimistic than the single best model on average.
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from .report import HIGHER_IS_BETTER, load

BOOSTING = {"lightgbm", "xgboost", "catboost"}


def loss(metric: str, value: float) -> float:
    return 1.0 - value if HIGHER_IS_BETTER[metric] else value


def optimism(metric: str, oof: float, test: float) -> float:
    return (loss(metric, test) - loss(metric, oof)) / abs(loss(metric, test))


def summarize(rows: list[dict]) -> dict[tuple, dict]:
    """(dataset, time limit) -> the figures of one system's row."""
    out = {}
    for r in rows:
        key = (r["dataset"], float(r["time_limit"]))
        if r["status"] != "ok":
            out[key] = {"status": r["status"], "error": r["error"][:80]}
            continue
        notes = json.loads(r["notes"] or "{}")
        metric, value = r["metric"], float(r["value"])
        entry = {"status": "ok", "metric": metric, "value": value, "fit_ratio": float(r["fit_seconds"]) / key[1],
                 "boosting": bool(BOOSTING & set(notes.get("families", [])))}
        if "ensemble_oof" in notes:
            entry["ensemble_optimism"] = optimism(metric, notes["ensemble_oof"], value)
            entry["best_optimism"] = optimism(metric, notes["best_model_oof"], notes["test_best_model"])
            entry["worse_than_best"] = loss(metric, value) > loss(metric, notes["test_best_model"]) * (1 + 1e-9)
        if "test_ensemble_one_copy" in notes:  # test predicted by one fold copy per model, like each OOF row
            entry["ensemble_one_copy_optimism"] = optimism(metric, notes["ensemble_oof"], notes["test_ensemble_one_copy"])
            entry["best_one_copy_optimism"] = optimism(metric, notes["best_model_oof"],
                                                       notes["test_best_model_one_copy"])
        if "ensemble_honest" in notes:  # the search's cross-fitted + guard estimate (after the change)
            entry["honest_optimism"] = optimism(metric, notes["ensemble_honest"], value)
        out[key] = entry
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", type=Path, required=True)
    ap.add_argument("--after", type=Path, required=True)
    ap.add_argument("--peers", type=Path, help="CSV with catboost_default rows")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    provenance = []
    for side, path in (("before", args.before), ("after", args.after)):
        raw = load([path])
        commits = sorted({r["commit"] for r in raw})
        dates = sorted(r["started_at"][:16] for r in raw)
        provenance.append(f"- {side}: commit {', '.join(commits)}; {dates[0]} to {dates[-1]}; "
                          f"{raw[0]['cores']} cores, GPU {raw[0]['gpu']}; {raw[0]['versions']}")
    before, after = summarize(load([args.before])), summarize(load([args.after]))
    catboost = {}
    if args.peers:
        catboost = {r["dataset"]: float(r["value"]) for r in load([args.peers])
                    if r["system"] == "catboost_default" and r["status"] == "ok"}
    keys = sorted(set(before) | set(after), key=lambda k: (k[1], k[0]))
    lines = ["# Budget stress matrix and search honesty", "",
             f"Before: `{args.before.name}`, after: `{args.after.name}`; catboost_default from "
             f"`{args.peers.name if args.peers else '-'}` (no time limit). Test metric on the BENCHMARK.md split "
             "(seed 0); ROC AUC higher is better, log loss and RMSE lower. `no GBDT`: the fit trained no "
             "LightGBM, XGBoost or CatBoost model.", "", *provenance, "",
             "| dataset | limit s | metric | before | after | catboost_default | before fit/limit | after fit/limit |",
             "|---|---|---|---|---|---|---|---|"]

    def cell(entry):
        if entry is None:
            return "-"
        if entry["status"] != "ok":
            return f"✗ {entry['status']}"
        return f"{entry['value']:.4f}" + ("" if entry["boosting"] else " (no GBDT)")

    for key in keys:
        b, a = before.get(key), after.get(key)
        metric = next((e["metric"] for e in (a, b) if e and e["status"] == "ok"), "")
        ratio = lambda e: f"{e['fit_ratio']:.2f}" if e and e["status"] == "ok" else "-"  # noqa: E731
        peer = f"{catboost[key[0]]:.4f}" if key[0] in catboost else "-"
        lines.append(f"| {key[0]} | {key[1]:g} | {metric} | {cell(b)} | {cell(a)} | {peer} | {ratio(b)} | {ratio(a)} |")

    pct = lambda e, k: f"{100 * e[k]:+.1f}%" if e and k in e else "-"  # noqa: E731
    lines += ["", "## Honesty per fit", "",
              "Optimism (test loss − OOF loss) / test loss: positive means the OOF score looked better than test.",
              "", "| dataset | limit s | ensemble before | single best before | ensemble after | "
              "ensemble after, honest estimate | single best after |", "|---|---|---|---|---|---|---|"]
    for key in keys:
        b, a = before.get(key), after.get(key)
        lines.append(f"| {key[0]} | {key[1]:g} | {pct(b, 'ensemble_optimism')} | {pct(b, 'best_optimism')} | "
                     f"{pct(a, 'ensemble_optimism')} | {pct(a, 'honest_optimism')} | {pct(a, 'best_optimism')} |")
    lines += ["", "## Summary per time limit", "",
              "| limit s | side | fits | failed | no GBDT | beats catboost_default | max fit/limit | "
              "mean ensemble optimism | mean honest-estimate optimism | mean single-best optimism | "
              "ensemble worse than its single best |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for limit in sorted({k[1] for k in keys}):
        for side, table in (("before", before), ("after", after)):
            entries = [(k, e) for k, e in table.items() if k[1] == limit]
            ok = [(k, e) for k, e in entries if e["status"] == "ok"]
            wins = sum(1 for k, e in ok if k[0] in catboost
                       and loss(e["metric"], e["value"]) < loss(e["metric"], catboost[k[0]]))
            honest = [e for _, e in ok if "ensemble_optimism" in e]
            mean = lambda xs: f"{100 * statistics.mean(xs):+.2f}%" if xs else "-"  # noqa: E731
            lines.append(
                f"| {limit:g} | {side} | {len(entries)} | {len(entries) - len(ok)} | "
                f"{sum(1 for _, e in ok if not e['boosting'])} | {wins}/{sum(1 for k, _ in ok if k[0] in catboost)} | "
                f"{max((e['fit_ratio'] for _, e in ok), default=float('nan')):.2f} | "
                f"{mean([e['ensemble_optimism'] for e in honest])} | "
                f"{mean([e['honest_optimism'] for e in honest if 'honest_optimism' in e])} | "
                f"{mean([e['best_optimism'] for e in honest])} | "
                f"{sum(e['worse_than_best'] for e in honest)}/{len(honest)} |")
    def has_one_copy(e):
        return e is not None and "ensemble_one_copy_optimism" in e

    one_copy = sorted({k for table in (before, after) for k, e in table.items() if has_one_copy(e)},
                      key=lambda k: (k[1], k[0]))
    if one_copy:
        lines += ["", "## Honesty with like for like: test predicted by one fold copy per model", "",
                  "Each OOF row is predicted by one fold copy, each test row by the mean of all copies, and a "
                  "single model gains more from that mean than an ensemble does. Here the test part is predicted "
                  "by the first copy of every model (the ensemble with its weights).", "",
                  "| dataset | limit s | ensemble before | single best before | ensemble after | single best after |",
                  "|---|---|---|---|---|---|"]
        for key in one_copy:
            b, a = before.get(key), after.get(key)
            lines.append(f"| {key[0]} | {key[1]:g} | {pct(b, 'ensemble_one_copy_optimism')} | "
                         f"{pct(b, 'best_one_copy_optimism')} | {pct(a, 'ensemble_one_copy_optimism')} | "
                         f"{pct(a, 'best_one_copy_optimism')} |")

        def mean(table, name):
            values = [table[k][name] for k in one_copy if has_one_copy(table.get(k))]
            return f"{100 * statistics.mean(values):+.2f}%" if values else "-"

        lines.append(f"| mean | | {mean(before, 'ensemble_one_copy_optimism')} | "
                     f"{mean(before, 'best_one_copy_optimism')} | {mean(after, 'ensemble_one_copy_optimism')} | "
                     f"{mean(after, 'best_one_copy_optimism')} |")
    lines += ["", "Optimism = (test loss − OOF loss) / test loss (loss = 1 − AUC, log loss, RMSE): how much "
              "better the OOF score looked than the test score. `ensemble worse than its single best`: fits "
              "whose chosen ensemble lost on test to the best single model of the same fit.", ""]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
