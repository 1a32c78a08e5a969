"""The path diagram of the satisfaction model (issue 15 part 1): one box per block, one arrow and
one coefficient label per path, nothing overlapping, dashed where the interval includes 0."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402

from csm_helpers.analysis.pls_pm import pls_pm  # noqa: E402
from csm_helpers.core.errors import DataError  # noqa: E402
from csm_helpers.core.i18n import set_language  # noqa: E402
from csm_helpers.present.charts.path_model import plot_path_model  # noqa: E402
from csm_helpers.study.config import ECSI_PATHS  # noqa: E402

from .plotting import _report_style, legend_texts  # noqa: E402,F401
from .test_pls_pm import DATA, ECSI  # noqa: E402


@pytest.fixture(scope="module")
def ecsi():
    data = pd.read_csv(DATA / "satisfaction.csv")
    blocks = {b: [c for c in data.columns if c.rstrip("0123456789") == p] for b, p in ECSI.items()}
    return pls_pm(data, blocks=blocks, paths=list(ECSI_PATHS))


def _labels(ax):
    return [t for t in ax.texts if not isinstance(t, Annotation) and t.get_text() and t.get_bbox_patch() is not None]


def test_every_block_and_path_is_drawn_and_nothing_overlaps(ecsi):
    ci = ecsi.paths[["from", "to"]].assign(ci_low=ecsi.paths["coefficient"] - 0.1,
                                           ci_high=ecsi.paths["coefficient"] + 0.1)
    ax = plot_path_model(ecsi.paths, r2=ecsi.r2, intervals=ci, highlight="satisfaction")
    fig = ax.figure
    fig.canvas.draw()
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    assert len(boxes) == 6
    arrows = [t for t in ax.texts if isinstance(t, Annotation)]
    assert len(arrows) == len(ecsi.paths) == 10
    labels = _labels(ax)
    shown = sorted(t.get_text() for t in labels)
    assert shown == sorted(f"{c:.2f}".replace("-", "\u2212") for c in ecsi.paths["coefficient"])
    renderer = fig.canvas.get_renderer()
    extents = [t.get_window_extent(renderer) for t in labels]
    for a, b in itertools.combinations(extents, 2):
        assert not a.overlaps(b)
    for box in boxes:
        bb = box.get_window_extent(renderer)
        assert not any(bb.overlaps(e) for e in extents)
    texts = [t.get_text() for t in ax.texts]
    assert "Satisfaction\nR² = 0.70" in texts and "Image" in texts  # exogenous: no R²
    dashed = [a for a in arrows if a.arrow_patch.get_linestyle() not in ("-", "solid")]
    assert len(dashed) == sum((ci["ci_low"] <= 0) & (ci["ci_high"] >= 0))  # EXPE -> SAT, 0.01 +- 0.1, and more
    assert any("interval includes 0" in x for x in legend_texts(ax))
    plt.close(fig)


def test_without_intervals_the_p_value_decides_and_a_generic_model_is_layered():
    paths = pd.DataFrame({"from": ["a", "b", "a", "c"], "to": ["b", "c", "c", "d"],
                          "coefficient": [0.5, 0.4, -0.3, 0.6], "p_value": [0.01, 0.3, 0.02, 0.001]})
    ax = plot_path_model(paths, r2={"b": 0.2, "c": 0.3, "d": 0.36})
    arrows = [t for t in ax.texts if isinstance(t, Annotation)]
    assert [a.arrow_patch.get_linestyle() in ("-", "solid") for a in arrows] == [True, False, True, True]
    assert any("not significant at 5 %" in x for x in legend_texts(ax))
    xs = {}
    for box, name in zip([p for p in ax.patches if isinstance(p, FancyBboxPatch)], "abcd", strict=True):
        xs[name] = box.get_x()
    assert xs["a"] < xs["b"] < xs["c"] < xs["d"]  # depth grows along every arrow
    assert "\u22120.30" in [t.get_text() for t in ax.texts]
    plt.close(ax.figure)


def test_bad_input_and_another_language(ecsi):
    with pytest.raises(DataError, match="cycle a -> b -> a"):
        plot_path_model(pd.DataFrame({"from": ["a", "b"], "to": ["b", "a"], "coefficient": [0.1, 0.2]}), r2={})
    with pytest.raises(DataError, match="coefficient"):
        plot_path_model(pd.DataFrame({"from": ["a"], "to": ["b"]}), r2={})
    set_language("vi")
    try:
        ax = plot_path_model(ecsi.paths, r2=ecsi.r2, highlight="satisfaction")
        ax.figure.canvas.draw()
        assert np.isfinite(ax.get_xlim()).all()
        plt.close(ax.figure)
    finally:
        set_language("en")
