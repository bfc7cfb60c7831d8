"""The HTML report of a fit, its SVG charts, and how it renders in a real browser."""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile

import numpy as np
import pytest

from automl import AutoMLClassifier, AutoMLRegressor
from automl.shell import plots
from automl.shell.report import _without_poor_outliers, render_report, write_report

from conftest import FAST

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def classifier(request):
    X, y = request.getfixturevalue("mixed_classification")
    return AutoMLClassifier(**FAST).fit(X, y)


# Module-scoped fits need module-scoped data: the conftest fixtures are function-scoped.
@pytest.fixture(scope="module")
def mixed_classification():
    from conftest import mixed_classification as make
    return make.__wrapped__()


@pytest.fixture(scope="module")
def regression_data():
    from conftest import regression_data as make
    return make.__wrapped__()


def test_classification_report_shows_the_fit(classifier):
    page = render_report(classifier, title="mixed <data>", target="label")
    assert "<title>mixed &lt;data&gt;</title>" in page
    for name in classifier.leaderboard()["config"]:
        assert name in page
    for strategy in classifier.ensemble_report()["strategy"]:
        assert strategy in page
    # The confusion matrix counts every training row once (its cells are the only bare numbers
    # drawn centred in the heatmap).
    start = page.index("Confusion matrix")
    heatmap = page[start:page.index("<h2>", start)]
    counts = [int(v) for v in re.findall(r'text-anchor="middle" fill="[^"]+">(\d+)</text>', heatmap)]
    assert len(counts) == 4 and sum(counts) == len(classifier.store_.y)
    assert "datetime" in page and "identifier" not in page
    assert "Reliability of the probabilities" in page and "Which columns matter" in page
    strategies = page[page.index("Strategies tried"):page.index("<h2>", page.index("Strategies tried"))]
    numbers = re.findall(r"\d+\.\d+", strategies)  # floats rounded to 4 significant digits, in settings too
    assert numbers and all(len(n.replace(".", "").strip("0")) <= 4 for n in numbers)


def test_report_is_self_contained(classifier, tmp_path):
    path = write_report(classifier, tmp_path / "sub" / "report.html")
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") >= 3
    assert not re.search(r'(src|href)="(https?:)?//', page) and "<script" not in page and "<link" not in page


def test_regression_report_plots_predicted_against_actual(regression_data, monkeypatch):
    X, y = regression_data
    model = AutoMLRegressor(**FAST).fit(X, y)
    monkeypatch.setattr("automl.shell.report.MAX_POINTS", 50)
    page = render_report(model)
    start = page.index("Predicted against actual")
    chart = page[start:page.index("<h2>", start)]
    assert "(50 of 300 rows, sampled)" in chart and chart.count("<circle") == 50
    assert "Confusion matrix" not in page
    residuals = page[page.index("Residuals and the 90% interval"):page.index("<h2>Which columns")]
    assert residuals.count("<circle") == 50
    importance = page[page.index("Which columns matter"):page.index("<h2>Features")]
    assert all(column in importance for column in ("a", "b", "kind"))


def test_ticks_are_round_numbers_inside_the_range():
    assert plots._ticks(0.8312, 0.8791) == pytest.approx([0.84, 0.85, 0.86, 0.87])
    assert [round(10 ** t, 6) for t in plots._log_ticks(np.log10(0.3), np.log10(40))] == [0.5, 1, 2, 5, 10, 20]
    assert [round(10 ** t) for t in plots._log_ticks(0.0, 4.0)] == [1, 10, 100, 1000, 10000]


def test_charts_escape_text_and_draw_every_point():
    points = [plots.Point(1.0, 0.5, "<model & co>", highlight=True), plots.Point(2.0, 0.7, "other")]
    svg = plots.scatter(points, "x", "y")
    assert "&lt;model &amp; co&gt;" in svg and "<model" not in svg and svg.count("<circle") == 2
    matrix = np.array([[5, 1], [2, 7]])
    svg = plots.heatmap(matrix, ["a", "b"], ["a", "b"], "predicted", "true")
    assert all(f">{v}</text>" in svg for v in (5, 1, 2, 7))


def test_a_far_worse_model_is_drawn_on_the_edge_without_flattening_the_others():
    losses = [529.0, 533.0, 538.0, 641.0, 1114.0]
    low, high = _without_poor_outliers(losses, greater_is_better=False)
    assert low == 529.0 and 641.0 <= high < 1114.0
    assert _without_poor_outliers([0.5, 0.86, 0.87, 0.88], greater_is_better=True)[0] > 0.5
    svg = plots.scatter([plots.Point(1.0, v) for v in losses], "x", "y", y_limits=(low, high))
    assert svg.count('fill="white"') == 1 and svg.count("<circle") == 5


def test_labels_that_would_overlap_are_moved_apart():
    points = [plots.Point(1.0, 0.5, "first model", highlight=True),
              plots.Point(1.0, 0.5001, "second model", highlight=True)]
    svg = plots.scatter(points, "x", "y")
    heights = [float(y) for y in re.findall(r'<text x="[^"]+" y="([^"]+)" font-size="11" text-anchor="start"', svg)]
    assert len(heights) == 2 and abs(heights[0] - heights[1]) >= 12


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium(classifier, tmp_path):
    page = write_report(classifier, tmp_path / "report.html")
    screenshot = tmp_path / "report.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={profile}", "--window-size=1280,2200", f"--screenshot={screenshot}",
                        page.as_uri()], capture_output=True, timeout=120, check=True)
    image = screenshot.read_bytes()
    assert image.startswith(b"\x89PNG")
    # A blank page compresses to a few kilobytes; text, tables and charts take far more.
    assert len(image) > 40_000
