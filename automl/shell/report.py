"""A self-contained HTML report of a fitted estimator: one file, charts inline as SVG.

What it shows comes from the fitted estimator and its prediction store only (no refitting, no
prediction on new data): the leaderboard, the ensemble's members and weights, the strategies
tried, each model's OOF score against its fit time, how the ensemble's OOF predictions compare
with the truth (a confusion matrix and a reliability diagram, or predicted against actual and the
residuals against the 90% conformal interval), and which columns matter (permutation importance
of the training rows through the fold copies that never saw them, within ``IMPORTANCE_SECONDS``).
"""
from __future__ import annotations

from html import escape
from pathlib import Path

import numpy as np
import pandas as pd

from . import plots

# Regression scatter plots show at most this many rows (a seeded sample), to keep the page light.
MAX_POINTS = 2000
# Seconds the report spends on permutation importance (3 repeats; fewer if time runs out).
IMPORTANCE_SECONDS = 30.0
RELIABILITY_BINS = 10

STYLE = """
body { font-family: system-ui, sans-serif; color: #212529; margin: 2rem auto; max-width: 1180px; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .3rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #dee2e6; }
.summary { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1.2rem; }
.summary dt { color: #868e96; } .summary dd { margin: 0; }
table { border-collapse: collapse; font-size: .85rem; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #e9ecef; vertical-align: top; }
.num { text-align: right; white-space: nowrap; }
.text { text-align: left; min-width: 5rem; max-width: 26rem; overflow-wrap: break-word; }
svg { max-width: 100%; height: auto; }
.scroll { overflow-x: auto; }
.dot { display: inline-block; width: .7rem; height: .7rem; border-radius: 50%; margin: 0 .3rem 0 .8rem; }
tr.member td { background: #fff4e6; font-weight: 600; }
.note { color: #868e96; font-size: .85rem; }
"""


def write_report(estimator, path: str | Path, title: str = "automl report", target: str | None = None) -> Path:
    """Writes the report of a fitted estimator to ``path`` (an .html file) and returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(estimator, title, target), encoding="utf-8")
    return path


def render_report(estimator, title: str = "automl report", target: str | None = None) -> str:
    """The report as one HTML string."""
    board = estimator.leaderboard()
    sections = [
        f"<h1>{escape(title)}</h1>",
        _summary(estimator, target),
        "<h2>Leaderboard</h2>" + _leaderboard_table(board, estimator.metric_),
        "<h2>Ensemble</h2>" + _ensemble(estimator),
        "<h2>Models: OOF score against fit time</h2>" + _score_vs_time(estimator, board),
        _fit_quality(estimator),
        _uncertainty(estimator),
        "<h2>Which columns matter</h2>" + _importance(estimator),
        "<h2>Features</h2>" + _features(estimator),
    ]
    body = "\n".join(sections)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{STYLE}</style></head><body>\n{body}\n</body></html>\n")


def _summary(est, target: str | None) -> str:
    schema = est.encoder_.schema_
    limit = f" (limit {est.time_limit:g}s)" if est.time_limit else ""
    # "auto → stacking" when the search chose; the name alone when it was asked for.
    strategy = est.ensemble_.name if est.ensemble_name_ == est.ensemble_.name else \
        f"{est.ensemble_name_} → {est.ensemble_.name}"
    items = [
        ("Task", f"{est.task_}" + (f", {len(est.classes_)} classes" if est.task_ != "regression" else "")),
        ("Target", target or "—"),
        ("Metric", est.metric_),
        ("Ensemble", f"{strategy}: {len(est.ensemble_.used_models)} of {len(est.records_)} models, "
                     f"OOF {est.metric_} {est.ensemble_score_:.5f}"),
        ("Rows", f"{est.n_rows_:,}"),
        ("Features", f"{len(schema.kinds)} used, {len(schema.dropped)} dropped"),
        ("Fit time", f"{est.fit_seconds_:.1f}s{limit}"),
    ]
    if est.decision_report_:
        report = est.decision_report_
        items.append(("Decision", f"{est.decision_rule_.describe()} (cross-fitted OOF {est.metric_} "
                                  f"{report['tuned_score']:.5f}, argmax {report['argmax_score']:.5f})"))
    if est.calibration_report_:
        report = est.calibration_report_
        items.append(("Calibration", f"{est.calibration_.describe()} (cross-fitted OOF {est.metric_} "
                                     f"{report['raw_score']:.5f} → {report['calibrated_score']:.5f}, ECE "
                                     f"{report['raw_ece']:.4f} → {report['calibrated_ece']:.4f})"))
    if hasattr(est, "device_"):
        items.append(("Device", est.device_))
    rows = "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in items)
    return f'<dl class="summary">{rows}</dl>'


def _leaderboard_table(board: pd.DataFrame, metric: str) -> str:
    return (_table(board, highlight=board["ensemble_weight"].to_numpy() > 0) +
            f'<p class="note">Sorted by OOF {escape(metric)}; highlighted rows are ensemble members.</p>')


def _ensemble(est) -> str:
    names = [r.name for r in est.records_]
    weights = est.ensemble_.model_weights()
    if weights is not None:
        order = [j for j in np.argsort(-weights) if weights[j] > 0]
        chart = plots.bars([names[j] for j in order], [float(weights[j]) for j in order], "weight in the ensemble")
    else:  # strategies that are not a weighted mean (stacking, dynamic selection) list their inputs
        chart = "<p>Models used: " + ", ".join(escape(names[j]) for j in est.ensemble_.used_models) + "</p>"
    return chart + _strategies(est)


# The strategies table's columns, as headers short enough for the table to fit a 1,300 px page; the
# chosen strategy's reason, a sentence, goes below it.
STRATEGY_COLUMNS = {"strategy": "strategy", "params": "settings", "pool_size": "pool", "cv_score": "cross-fitted",
                    "guard_score": "guard", "honest_score": "honest", "models_used": "models",
                    "predict_seconds_per_1k": "predict s / 1k rows", "win_probability": "win prob.",
                    "evidence_needed": "needed"}


def _strategies(est) -> str:
    """The strategies tried (with ``ensemble="auto"``: one row per strategy the search tried)."""
    report = est.ensemble_report()
    shown = report[[c for c in STRATEGY_COLUMNS if c in report.columns]].rename(columns=STRATEGY_COLUMNS)
    chosen = report[report["chosen"]]
    reason = "" if chosen.empty else f"Chosen: {chosen['final'].iloc[0]} ({chosen['reason'].iloc[0]})."
    return (f"<h3>Strategies tried</h3>{_table(shown, highlight=report['chosen'].to_numpy())}"
            f'<p class="note">{escape(reason)}</p>')


def _score_vs_time(est, board: pd.DataFrame) -> str:
    score_column = f"oof_{est.metric_}"
    points = [plots.Point(r.fit_seconds, getattr(r, score_column), f"{r.config} ({getattr(r, score_column):.5g})",
                          highlight=r.ensemble_weight > 0) for r in board.itertuples(index=False)]
    members = board["ensemble_weight"] > 0
    if members.sum() > 1:  # an ensemble of one model would sit on that model's point
        points.append(plots.Point(float(board.loc[members, "fit_seconds"].sum()), est.ensemble_score_,
                                  f"ensemble ({est.ensemble_.name})", highlight=True))
    direction = "higher" if est.scorer_.greater_is_better else "lower"
    chart = plots.scatter(points, "fit seconds (all folds, log scale)", f"OOF {est.metric_} ({direction} is better)",
                          log_x=True, y_limits=_without_poor_outliers([p.y for p in points], direction == "higher"))
    legend = (f'<p class="note"><span class="dot" style="background:{plots.ACCENT}"></span>the ensemble and '
              f'its members<span class="dot" style="background:{plots.MUTED}"></span>other models</p>')
    return (chart + legend + '<p class="note">The ensemble is placed at the summed fit time of its members; '
            "hollow points scored far worse than the others and sit on the edge. Hover a point for its model.</p>")


def _without_poor_outliers(scores: list[float], greater_is_better: bool) -> tuple[float, float]:
    """The score range to plot: all of it except models far worse than the rest (beyond Tukey's
    fence, 1.5 interquartile ranges past the quartile on the bad side)."""
    values = np.asarray(scores, dtype=float)
    q1, q3 = np.percentile(values, [25, 75])
    if greater_is_better:
        return max(values.min(), q1 - 1.5 * (q3 - q1)), values.max()
    return values.min(), min(values.max(), q3 + 1.5 * (q3 - q1))


def _fit_quality(est) -> str:
    """How the ensemble's OOF predictions compare with the truth (from the run's stored predictions)."""
    if est.store_ is None:
        return ('<h2>Fit quality</h2><p class="note">Not shown: this model was saved without its run '
                "(the stored OOF predictions).</p>")
    # predict_oof: for strategies that learn from rows (stacking), predictions that never saw those rows' targets.
    predictions = est.ensemble_.predict_oof(est.store_.oof, est.store_.features)
    y = est.store_.y
    if est.task_ == "regression":
        rows = np.random.default_rng(0).permutation(len(y))[:MAX_POINTS]
        points = [plots.Point(float(y[i]), float(predictions[i, 0]), f"actual {y[i]:.4g}, "
                                                                      f"predicted {predictions[i, 0]:.4g}")
                  for i in rows]
        shown = f" ({len(rows):,} of {len(y):,} rows, sampled)" if len(rows) < len(y) else ""
        chart = plots.scatter(points, "actual", "predicted (ensemble, out of fold)", diagonal=True)
        return f"<h2>Predicted against actual{shown}</h2>{chart}"
    labels = [str(c) for c in est.classes_]
    predicted = np.argmax(predictions, axis=1)
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    np.add.at(matrix, (y.astype(int), predicted), 1)
    accuracy = np.trace(matrix) / matrix.sum()
    chart = plots.heatmap(matrix, labels, labels, "predicted class", "true class")
    return (f"<h2>Confusion matrix (ensemble, out of fold)</h2>{chart}"
            f'<p class="note">Accuracy {accuracy:.4f}; shading is the share of each true class.</p>')


def _uncertainty(est) -> str:
    """Classification: the reliability diagram of the OOF probabilities (top label). Regression:
    the OOF residuals, those outside their 90% conformal interval highlighted."""
    if est.store_ is None or getattr(est, "conformal_", None) is None:
        return ""
    store = est.store_
    honest = est.ensemble_.predict_oof(store.oof, store.features).astype(np.float64)
    if est.task_ == "regression":
        rows = np.random.default_rng(0).permutation(len(store.y))[:MAX_POINTS]
        predicted = honest[rows, 0]
        residual = store.y[rows] - predicted
        half = np.diff(est.conformal_.interval(predicted, store.features.take(rows), 0.9), axis=1)[:, 0] / 2
        outside = np.abs(residual) > half
        points = [plots.Point(float(p), float(r), f"predicted {p:.4g}, residual {r:.4g}, interval ±{h:.4g}",
                              highlight=bool(o)) for p, r, h, o in zip(predicted, residual, half, outside)]
        chart = plots.scatter(points, "predicted (out of fold)", "actual − predicted")
        return (f"<h2>Residuals and the 90% interval</h2>{chart}<p class=\"note\">Highlighted: rows outside "
                f"their 90% conformal interval ({outside.mean():.1%} of those shown; the interval is wider where "
                "the difficulty model expects larger errors).</p>")
    proba = est._probabilities(honest)
    confidence, correct = proba.max(axis=1), proba.argmax(axis=1) == store.y
    which = np.minimum((confidence * RELIABILITY_BINS).astype(int), RELIABILITY_BINS - 1)
    points = [plots.Point(float(confidence[which == b].mean()), float(correct[which == b].mean()),
                          f"{int((which == b).sum()):,} rows: confidence {confidence[which == b].mean():.3f}, "
                          f"accuracy {correct[which == b].mean():.3f}", highlight=True)
              for b in range(RELIABILITY_BINS) if (which == b).any()]
    chart = plots.scatter(points, "predicted probability of the top class (out of fold)", "share right",
                          diagonal=True)
    return (f"<h2>Reliability of the probabilities</h2>{chart}<p class=\"note\">One point per bin of "
            "confidence; on the diagonal, a probability of p is right a share p of the time.</p>")


def _importance(est) -> str:
    if est.store_ is None:
        return '<p class="note">Not shown: this model was saved without its run (the fold copies\' rows).</p>'
    table = est.feature_importance(n_repeats=3, time_limit=IMPORTANCE_SECONDS)
    shown = table.head(20)
    chart = plots.bars([str(c) for c in shown.index], [max(float(v), 0.0) for v in shown["importance"]],
                       f"drop of OOF {est.metric_} when the column is shuffled")
    return chart + _table(table.reset_index()) + (
        '<p class="note">Permutation importance on the training rows, each predicted by the fold copies '
        "that never saw it; p-value: one-sided, from bootstrap repeats.</p>")


def _features(est) -> str:
    schema = est.encoder_.schema_
    rows = [(name, how) for name, how in est.encoder_.treatment().items()]
    rows += [(name, f"dropped: {reason}") for name, reason in schema.dropped.items()]
    return _table(pd.DataFrame(rows, columns=["column", "encoded as"]))


def _table(frame: pd.DataFrame, highlight: np.ndarray | None = None) -> str:
    """An HTML table: numeric columns right-aligned, text left-aligned, ``highlight``ed rows marked."""
    align = ["num" if pd.api.types.is_numeric_dtype(frame[c]) else "text" for c in frame.columns]
    header = "".join(f'<th class="{a}">{escape(str(c))}</th>' for c, a in zip(frame.columns, align))
    rows = []
    for i, row in enumerate(frame.itertuples(index=False)):
        marked = ' class="member"' if highlight is not None and highlight[i] else ""
        cells = "".join(f'<td class="{a}">{_format(v)}</td>' for v, a in zip(row, align))
        rows.append(f"<tr{marked}>{cells}</tr>")
    return f'<div class="scroll"><table><thead><tr>{header}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def _format(value) -> str:
    return escape(str(_rounded(value)))


def _rounded(value):
    """Floats to 4 significant digits, inside dicts and lists too (a strategy's settings)."""
    if isinstance(value, (float, np.floating)):
        return float(f"{value:.4g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_rounded(v) for v in value)
    return value
