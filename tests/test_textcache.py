"""The shared text measurements (charts.textcache) give matplotlib's own values, and the charts
saved through them are the charts matplotlib draws without them."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib as mpl  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import RendererAgg  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402
from PIL import Image  # noqa: E402

from csm_helpers.present.charts import textcache  # noqa: E402
from csm_helpers.present.charts.style import set_report_style  # noqa: E402

TEXTS = ["Perception falls short of expectation", "Phí và lệ phí", "手机应用的可靠性", "72.6%", r"$\alpha = 0.05$"]


@pytest.fixture(autouse=True)
def _style():
    set_report_style()
    assert textcache.install()


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("size", [9, 11, 14])
def test_measurement_is_matplotlibs(text: str, size: int) -> None:
    renderer = RendererAgg(600, 400, 120)
    prop = FontProperties(family="sans-serif", size=size)
    ismath = text.startswith("$")
    expected = renderer.get_text_width_height_descent(text, prop, ismath=ismath)  # no store involved
    assert textcache._measure(renderer, text, prop, ismath, 120) == expected
    assert textcache._measure(renderer, text, prop, ismath, 120) == expected  # from the store


def test_font_settings_are_part_of_the_key() -> None:
    """The same text in another font (rcParams changed in between) is measured again."""
    renderer = RendererAgg(600, 400, 120)
    prop = FontProperties(family="sans-serif", size=11)
    text = "Mean gap: perception minus expectation"
    with mpl.rc_context({"font.sans-serif": ["DejaVu Sans"]}):
        dejavu = textcache._measure(renderer, text, prop, False, 120)
        assert dejavu == renderer.get_text_width_height_descent(text, prop, ismath=False)
    with mpl.rc_context({"font.sans-serif": ["Noto Sans CJK SC", "DejaVu Sans"]}):
        noto = textcache._measure(renderer, text, prop, False, 120)
        assert noto == renderer.get_text_width_height_descent(text, prop, ismath=False)
    assert dejavu != noto


def test_font_heights_are_matplotlibs() -> None:
    """The ascent, descent and line gap an Agg renderer answers are those matplotlib reads
    from the font's tables itself (the hook removed), for every text of a chart."""
    if not hasattr(RendererAgg, "_get_font_height_metrics"):
        pytest.skip("this matplotlib does not ask the renderer for font heights")

    def extents() -> list[tuple[float, ...]]:
        fig, ax = plt.subplots(figsize=(5.8, 3), dpi=120)
        ax.set_title("Two lines\nof title")
        ax.set_xlabel("Phí và lệ phí · 手机应用")
        ax.text(0.2, 0.5, "a note\nin two lines", fontsize=9)
        fig.draw_without_rendering()
        out = [tuple(np.round(t.get_window_extent().bounds, 6)) for t in fig.findobj(mpl.text.Text) if t.get_text()]
        plt.close(fig)
        return out

    with_hook = extents()
    hook = RendererAgg._get_font_height_metrics
    del RendererAgg._get_font_height_metrics
    try:
        without = extents()
    finally:
        RendererAgg._get_font_height_metrics = hook
    assert with_hook == without


def test_saved_chart_is_the_chart_matplotlib_draws() -> None:
    """figure_png cuts the chart from the canvas it has just drawn; that is the picture
    ``savefig(bbox_inches=box)`` draws (pixel for pixel, up to the palette)."""
    from csm_helpers.present.charts.style import fitted_bbox
    from csm_helpers.present.display import figure_png

    def chart() -> plt.Figure:
        fig, ax = plt.subplots(figsize=(5.8, 3.5), layout="constrained")
        ax.barh([f"Attribute {i}" for i in range(6)], np.arange(6), color="#0072B2")
        ax.set_title("Concentrate here: 4 of 12 attributes")
        return fig

    ours = np.asarray(Image.open(io.BytesIO(figure_png(chart()))).convert("RGB"), dtype=int)
    fig = chart()
    fig.set_dpi(120)
    box = fitted_bbox(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches=box)
    plt.close(fig)
    reference = np.asarray(Image.open(buf).convert("RGB"), dtype=int)
    assert ours.shape == reference.shape
    # the same drawing: the palette keeps every colour of a chart with few; anti-aliased
    # edges may move by one shade
    assert (np.abs(ours - reference).max(axis=2) > 24).mean() < 0.002
