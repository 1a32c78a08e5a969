"""Issue 14 decision data: the key-driver chart written as SVG by our own code, against today's
matplotlib PNG of the same chart (time, size, sharpness), in English, Vietnamese and Chinese.

    .venv/bin/python benchmarks/svg_spike.py [--repeat 20] [--out DIR]

This is a measurement, not product code: nothing in ``csm_helpers`` uses it. It answers what an
own chart writer would cost and give before the product owner decides on one (issue 14: "SVG
with text kept as text and a subset font embedded … show the trade-off in size, time and
sharpness"). The SVG chart is drawn the way a writer of our own would draw it: every text
measured from the report font's advance widths (Noto Sans CJK SC, the font the PNG charts use),
titles and category labels wrapped to their room, bars, bootstrap whiskers, a percent axis, a
legend under the chart, and the font subset to the glyphs used, embedded as a data URL so the
chart renders the same in any browser and in print. Customer-given text (labels) is escaped.

It writes ``DIR/compare.html`` (both charts in each language, as the reports embed them) and
prints, per language: the time to build and encode each chart (median of ``--repeat``), the
bytes each adds to a report, and the time of the font subset (once per report, shared by every
chart of the page when the charts are inline SVG). Open the page in Chromium at 412 px and print
it to an A4 PDF to compare sharpness (the script does both when ``chromium`` is on the PATH).
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

PT = 96 / 72  # CSS px per point
WIDTH = 5.8 * 96  # the report chart width (5.8 in), CSS px
DARK, EDGE = "#0b3d5c", "#1a1a1a"

LABELS = {  # attribute -> label, per language (the sample's labels; vi and zh written for this check)
    "vi": {"product_range": "Sự đa dạng của sản phẩm", "fees": "Phí và lệ phí", "app_reliability":
           "Độ tin cậy của ứng dụng di động", "interest_rates": "Lãi suất", "wait_time": "Thời gian chờ đợi",
           "ease_of_paperwork": "Thủ tục giấy tờ đơn giản", "problem_resolution": "Tốc độ giải quyết vấn đề",
           "accuracy": "Độ chính xác của giao dịch", "staff_courtesy": "Sự lịch sự của nhân viên",
           "staff_knowledge": "Kiến thức của nhân viên", "responsiveness": "Khả năng phản hồi",
           "personal_attention": "Sự quan tâm cá nhân"},
    "zh": {"product_range": "产品种类", "fees": "费用和收费", "app_reliability": "手机应用的可靠性",
           "interest_rates": "利率", "wait_time": "等候时间", "ease_of_paperwork": "手续简便",
           "problem_resolution": "问题解决速度", "accuracy": "交易准确性", "staff_courtesy": "员工礼貌",
           "staff_knowledge": "员工专业知识", "responsiveness": "响应速度", "personal_attention": "个性化关怀"},
}
TEXTS = {
    "en": ("Key drivers of overall satisfaction (R² = {r2})", "Strongest: {label}, {pct}% of the explained variance",
           "Share of the explained variance (% of R²), n = {n} per attribute (pairwise)", "top 3", "others",
           "95% bootstrap interval"),
    "vi": ("Các yếu tố chính tác động đến sự hài lòng chung (R² = {r2})",
           "Mạnh nhất: {label}, {pct}% phương sai được giải thích",
           "Tỷ lệ phương sai được giải thích (% của R²), n = {n} mỗi thuộc tính (theo cặp)", "3 yếu tố đầu",
           "các yếu tố khác", "khoảng bootstrap 95%"),
    "zh": ("总体满意度的关键驱动因素（R² = {r2}）", "最强：{label}，占已解释方差的 {pct}%",
           "已解释方差的占比（R² 的 %），每个属性 n = {n}（成对）", "前 3 项", "其他", "95% 自助法区间"),
}


CLOSING = set("）)，。、：；！？%」』")  # never at the start of a line (a minimal kinsoku rule)


class Font:
    """Advance widths of the report font, for measuring text without a renderer."""

    def __init__(self, path: str) -> None:
        from fontTools.ttLib import TTFont

        self.path = path
        self.font = TTFont(path, lazy=True)
        self.cmap = self.font.getBestCmap()
        self.hmtx = self.font["hmtx"].metrics
        self.upm = self.font["head"].unitsPerEm
        self.used: set[str] = set()

    def width(self, text: str, size_px: float) -> float:
        units = 0
        for ch in unicodedata.normalize("NFC", text):
            self.used.add(ch)
            glyph = self.cmap.get(ord(ch))
            units += self.hmtx[glyph][0] if glyph else self.upm // 2
        return units * size_px / self.upm

    def subset_css(self) -> str:
        """An @font-face rule with the glyphs used so far (WOFF, zlib), as a data URL."""
        from fontTools import subset

        options = subset.Options()
        options.flavor = "woff"
        options.layout_features = ["kern", "liga", "ccmp", "locl", "mark", "mkmk"]
        font = subset.load_font(self.path, options)
        sub = subset.Subsetter(options)
        sub.populate(text="".join(sorted(self.used)) + "0123456789%.,–−() ")
        sub.subset(font)
        buf = io.BytesIO()
        subset.save_font(font, buf, options)
        data = base64.b64encode(buf.getvalue()).decode()
        return f"@font-face{{font-family:csmchart;src:url(data:font/woff;base64,{data}) format('woff')}}"


def wrap(font: Font, text: str, room: float, size: float) -> list[str]:
    """Greedy wrap at spaces (and between CJK characters) to ``room`` px."""
    tokens: list[str] = []
    for word in text.split(" "):
        if any("\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" for ch in word):
            tokens.extend(word)  # CJK: a break may go between any two characters
        else:
            tokens.append(word + " ")
    lines, line = [], ""
    for tok in tokens:
        if line and tok[0] not in CLOSING and font.width((line + tok).rstrip(), size) > room:
            lines.append(line.rstrip())
            line = tok
        else:
            line += tok
    return [*lines, line.rstrip()] if line.strip() else lines


def drivers_svg(d, labels: dict[str, str], texts: tuple[str, ...], font: Font, *, css: str = "") -> str:  # noqa: ANN001
    """The key-driver chart as SVG (the layout of plot_drivers, written directly)."""
    d = d.sort_values("rw_pct", ascending=False, kind="stable").reset_index(drop=True)
    fs, ts = 11 * PT, 12 * PT
    e = html.escape
    title_t, strongest_t, xlabel_t, top_t, others_t, interval_t = texts
    r2 = float(d["relative_weight"].sum())
    names = [labels.get(a, a) for a in d["attribute"]]
    title = wrap(font, title_t.format(r2=f"{r2:.2f}"), WIDTH - 16, ts) + \
        wrap(font, strongest_t.format(label=names[0], pct=f"{d['rw_pct'].iloc[0]:.0f}"), WIDTH - 16, ts)
    cat = [wrap(font, n, WIDTH / 3, fs) for n in names]
    left = max(font.width(line, fs) for lines in cat for line in lines) + 10
    row_h = max(0.3 * 96, max(len(c) for c in cat) * fs * 1.2 + 6)
    top = 8 + len(title) * ts * 1.25 + 8
    plot_w = WIDTH - left - 12
    hi = d["rw_pct_ci_high"].to_numpy(float)
    xmax = max(10.0, float(max(hi.max(), d["rw_pct"].max()))) * 1.18
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50) if xmax / s <= 6)
    x = lambda v: left + plot_w * v / xmax  # noqa: E731
    plot_h = row_h * len(d)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" font-family="csmchart,sans-serif" font-size="{fs:.2f}" '
           f'role="img" viewBox="0 0 {WIDTH:.0f} {{H}}" width="{WIDTH:.0f}" style="max-width:100%;height:auto">',
           f"<style>{css}</style>" if css else "", f"<title>{e(' '.join(title))}</title>"]
    for i, line in enumerate(title):
        out.append(f'<text x="{WIDTH / 2:.1f}" y="{8 + (i + 0.9) * ts * 1.25:.1f}" text-anchor="middle" '
                   f'font-size="{ts:.2f}">{e(line)}</text>')
    for v in range(0, int(xmax) + 1, step):
        out.append(f'<line x1="{x(v):.1f}" x2="{x(v):.1f}" y1="{top:.1f}" y2="{top + plot_h:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{x(v):.1f}" y="{top + plot_h + fs + 4:.1f}" text-anchor="middle">{v}%</text>')
    out.append('<defs><pattern id="h" width="6" height="6" patternUnits="userSpaceOnUse" '
               'patternTransform="rotate(45)"><line y2="6" stroke="#1a1a1a" stroke-width="0.8"/></pattern></defs>')
    for i, row in d.iterrows():
        yc = top + (i + 0.5) * row_h
        bh = 0.65 * min(row_h, 0.3 * 96)
        fill = DARK if i < 3 else "url(#h)"
        out.append(f'<rect x="{left:.1f}" y="{yc - bh / 2:.1f}" width="{x(row.rw_pct) - left:.1f}" height="{bh:.1f}" '
                   f'fill="{fill}" stroke="{EDGE}" stroke-width="0.9"/>')
        lo, hi_ = x(row.rw_pct_ci_low), x(row.rw_pct_ci_high)
        out.append(f'<path d="M{lo:.1f} {yc:.1f}H{hi_:.1f}M{lo:.1f} {yc - 3.5:.1f}v7M{hi_:.1f} {yc - 3.5:.1f}v7" '
                   'stroke="#000" stroke-width="1.2" fill="none"/>')
        out.append(f'<text x="{max(hi_, x(row.rw_pct)) + 4:.1f}" y="{yc + fs * 0.35:.1f}">{row.rw_pct:.0f}%</text>')
        lines = cat[i]
        for k, line in enumerate(lines):
            yl = yc + (k - (len(lines) - 1) / 2) * fs * 1.2 + fs * 0.35
            out.append(f'<text x="{left - 6:.1f}" y="{yl:.1f}" text-anchor="end">{e(line)}</text>')
    out.append(f'<path d="M{left:.1f} {top:.1f}V{top + plot_h:.1f}H{left + plot_w:.1f}" stroke="#000" fill="none"/>')
    y = top + plot_h + 2 * fs + 8
    for line in wrap(font, xlabel_t.format(n=f"{int(d['n'].min()):,}–{int(d['n'].max()):,}"), plot_w, fs):
        out.append(f'<text x="{left + plot_w / 2:.1f}" y="{y:.1f}" text-anchor="middle">{e(line)}</text>')
        y += fs * 1.25
    y += 6
    items = [(top_t, f'<rect width="18" height="10" fill="{DARK}" stroke="{EDGE}"/>'),
             (others_t, f'<rect width="18" height="10" fill="url(#h)" stroke="{EDGE}"/>'),
             (interval_t, '<path d="M0 5H18M0 0v10M18 0v10" stroke="#000" stroke-width="1.2"/>')]
    xs = 8
    for label, mark in items:  # one row when it fits, else one entry a row
        w = 24 + font.width(label, fs) + 16
        if xs + w > WIDTH and xs > 8:
            xs, y = 8, y + fs * 1.5
        out.append(f'<g transform="translate({xs:.1f} {y:.1f})">{mark}<text x="24" y="{fs * 0.75:.1f}">{e(label)}'
                   '</text></g>')
        xs += w
    height = y + fs * 1.5 + 8
    out.append("</svg>")
    return "".join(out).replace("{H}", f"{height:.0f}", 1)


def _png_chart(d, labels: dict[str, str]) -> bytes:  # noqa: ANN001
    """Today's chart: plot_drivers, laid out, drawn and encoded as the reports do."""
    import matplotlib.pyplot as plt

    from csm_helpers.present.charts import analysis as pa
    from csm_helpers.present.display import figure_png

    ax = pa.plot_drivers(d, labels=labels)
    png = figure_png(ax.figure)
    plt.close(ax.figure)
    return png


def _median_time(work, repeat: int) -> tuple[float, object]:  # noqa: ANN001
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--out", type=Path, default=None, help="folder for compare.html and screenshots")
    args = parser.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    from csm_helpers.core.i18n import set_language
    from csm_helpers.present.charts.style import bundled_font, set_report_style
    from csm_helpers.workbook import open_stage

    set_report_style()
    ctx = open_stage("04_analysis")
    table = ctx.driver_table
    out = args.out or Path(tempfile.mkdtemp(prefix="svg-spike-"))
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    font = Font(bundled_font())
    t_font = time.perf_counter() - t0
    print(f"font: {Path(font.path).name}, opened in {t_font * 1000:.0f} ms (once per process)\n")
    print(f"{'':<4} {'PNG (today) ms':>15} {'SVG ms':>8} {'subset ms':>10} {'PNG KB':>8} {'SVG KB':>8} {'font KB':>8}")
    sections = []
    for lang in ("en", "vi", "zh"):
        labels = ctx.attribute_labels if lang == "en" else LABELS[lang]
        set_language(lang)
        t_png, png = _median_time(lambda labels=labels: _png_chart(table, labels), max(3, args.repeat // 4))
        t_svg, svg = _median_time(lambda labels=labels, lang=lang: drivers_svg(table, labels, TEXTS[lang], font), args.repeat)
        t_sub, css = _median_time(font.subset_css, 3)
        svg = drivers_svg(table, labels, TEXTS[lang], font, css=css)
        png_b64 = base64.b64encode(png).decode()
        print(f"{lang:<4} {t_png * 1000:15.0f} {t_svg * 1000:8.1f} {t_sub * 1000:10.0f} {len(png_b64) / 1024:8.0f} "
              f"{(len(svg) - len(css)) / 1024:8.1f} {len(css) / 1024:8.1f}")
        sections.append(f"<h2>{lang}: PNG (today)</h2><img alt='' style='max-width:100%;width:{5.8 * 96:.0f}px' "
                        f"src='data:image/png;base64,{png_b64}'><h2>{lang}: SVG (own writer)</h2>{svg}")
        font.used.clear()
    set_language("en")
    page = out / "compare.html"
    page.write_text("<!doctype html><meta charset='utf-8'><meta name='viewport' content='width=device-width'>"
                    "<body style='font-family:sans-serif;margin:8px'>" + "".join(sections) + "</body>", encoding="utf-8")
    print(f"\nwrote {page}")
    chromium = shutil.which("chromium")
    if chromium:
        for name, extra in (("phone.png", ["--window-size=412,5200", "--screenshot=" + str(out / "phone.png")]),
                            ("a4.pdf", ["--print-to-pdf=" + str(out / "a4.pdf"), "--no-pdf-header-footer"])):
            subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                            "--virtual-time-budget=5000", *extra, page.as_uri()], capture_output=True, check=False)
            print(f"wrote {out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
