"""The full analysis of 1,000,000 responses x 20 items: seconds per step, total and peak memory (SPEC §5).

    .venv/bin/python benchmarks/scale.py                 # n = 1,000,000 (target: < 60 s, < 4 GB)
    .venv/bin/python benchmarks/scale.py --n 20000       # a quick run
    .venv/bin/python benchmarks/scale.py --profile out.prof --keep /tmp/scale-study

What it does
------------
1. **Generates** a seeded study (vectorised numpy, into a temporary folder): 20 attributes in
   the three dimensions, each with a performance, an importance and an expectation item (1-5),
   12 of them with a competitor rating; overall satisfaction and satisfaction with the last
   contact (1-5), recommend (0-10), repeat purchase, three market items and three loyalty
   measures; segments ``region`` (4 values) and ``channel`` (2), two waves, completion times
   (about 3% speeders), a few straight-liners and copied answer rows, items missing at random,
   and free-text comments (English, Vietnamese, Chinese) from 5% of the respondents. Population
   margins of region and channel (the sample over-represents digital customers) make the
   analysis rake weights, so every estimate is weighted and every CSI interval bootstrapped.
   The responses are written as Parquet; the codebook, goals, complaint log and lost-customer
   file are the bundled sample's (the codebook with the 8 extra attributes added). Generation
   is timed but is not part of the analysis total.
2. **Runs the analysis** exactly as the reports do: the code cells of the stage notebooks
   ``03_measurement``, ``04_analysis`` and ``05_action_progress`` (read from the committed
   ``.ipynb``, so this follows every change to them) are executed in this process with the
   study's path as parameter, and then the one-screen summary every report opens with
   (:func:`csm_helpers.workbook.summary.report_summary`). Every table is rendered to HTML and every chart
   to SVG (``display.show_figure``), as in a report; only the last hand-over to the notebook
   front end is replaced by a counter. Unlike ``csm run``, which
   starts one kernel per stage, the three stages share one
   :class:`~csm_helpers.workbook.context.StageContext`, so the data are loaded, validated, checked and
   weighted once (those steps are timed on their own first); with a kernel per stage they are
   repeated in each.
3. Prints the seconds of every step (the heading of the notebook section it belongs to), the
   total of the analysis, and the peak resident memory of the process
   (``resource.getrusage(RUSAGE_SELF).ru_maxrss``, which includes generation).

Bootstrap resamples are the study's default (``analysis.bootstrap`` = 1,000). The test
``tests/test_benchmarks.py`` runs ``--n 20000`` to check that the script works (it does not
time it).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import math
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

from csm_helpers.study.datasets import sample_dir  # noqa: E402
from csm_helpers.synthetic import model, survey  # noqa: E402

DEFAULT_N = 1_000_000
MIN_N = 1_000
DEFAULT_SEED = 20261205


# --------------------------------------------------------------------------- the generated study
class _Extra(NamedTuple):
    id: str
    label: str
    dimension: str
    theme: str
    beta: float
    perf: float
    perf_sd: float
    expect: float
    comp: float | None
    keywords: tuple[str, ...]
    praise: str
    blame: str


#: The 8 attributes added to the sample study's 12 (with keywords for the codebook and one
#: phrase of praise and one of blame for the comments, English only).
EXTRA: tuple[_Extra, ...] = (
    _Extra("card_services", "Card services", "product", "Products and pricing", 0.04, 3.70, 0.90, 3.85, 3.60,
           ("debit card", "credit card", "card limit", "thẻ tín dụng", "信用卡"),
           "The credit card works everywhere I travel.", "My debit card was blocked twice abroad."),
    _Extra("loan_terms", "Loan terms", "product", "Products and pricing", 0.03, 3.30, 0.95, 3.70, None,
           ("loan terms", "repayment", "collateral", "khoản vay", "贷款条件"),
           "Flexible repayment on my loan.", "The loan terms were hard to understand and strict on collateral."),
    _Extra("security", "Security of my money", "product", "Digital banking", 0.05, 4.10, 0.80, 4.45, 3.95,
           ("security", "secure", "fraud", "bảo mật", "安全"),
           "I feel my money is secure here.", "Nobody helped when I reported a fraud attempt, security is weak."),
    _Extra("branch_hours", "Branch opening hours", "process", "Speed and convenience", 0.03, 3.35, 1.00, 3.90,
           3.70, ("opening hours", "branch hours", "saturday", "giờ mở cửa", "营业时间"),
           "Convenient opening hours, even on Saturday.", "The branch hours are impossible for people who work."),
    _Extra("call_centre", "Call-centre access", "process", "Speed and convenience", 0.05, 3.10, 1.05, 3.95, None,
           ("call centre", "hotline", "on hold", "tổng đài", "客服电话"),
           "The hotline answered at once.", "Forty minutes on hold at the call centre."),
    _Extra("statements", "Clear statements", "process", "Getting it right", 0.02, 3.80, 0.85, 3.85, None,
           ("statement", "statements", "sao kê", "对账单"),
           "Statements are clear and easy to read.", "I cannot make sense of my monthly statements."),
    _Extra("advice_quality", "Quality of advice", "people", "Staff competence", 0.04, 3.55, 0.95, 3.95, 3.65,
           ("advice", "advised", "recommendation", "tư vấn", "建议"),
           "The advice on my savings was excellent.", "The advice I got was wrong and cost me money."),
    _Extra("staff_availability", "Staff availability", "people", "Staff attitude", 0.03, 3.40, 1.00, 3.85, None,
           ("no staff", "understaffed", "only one counter", "thiếu nhân viên", "人手不足"),
           "There is always someone free to help.", "The branch is understaffed, only one counter open."),
)

_EXTRA_LOADING = {"product": 0.74, "process": 0.76, "people": 0.78}
_FACTOR_CORR = 0.35
_COMMENT_SHARE = 0.05
_FILLERS = ("Thanks for asking.", "That is all.", "Please pass this on.", "Nothing else to add.",
            "I hope this helps.", "Otherwise fine.", "Just my opinion.", "Keep it in mind.")
_HOSTILE = ("=HYPERLINK(\"http://example.invalid\",\"click\")", "<script>alert(1)</script> the app crashed",
            "+1 fees are too high", "@staff rude at the counter")


class _Attr(NamedTuple):
    id: str
    label: str
    dimension: str
    beta: float
    perf: float
    perf_sd: float
    expect: float
    comp: float | None
    importance: float


def scale_attributes() -> list[_Attr]:
    """The 20 attributes of the generated study: the sample's 12, then :data:`EXTRA`."""
    out = [_Attr(a.id, a.label, a.dimension, a.beta, a.perf, a.perf_sd, a.expect, a.comp, 3.55 + 3.2 * a.beta)
           for a in model.ATTRIBUTES]
    out += [_Attr(e.id, e.label, e.dimension, e.beta, e.perf, e.perf_sd, e.expect, e.comp, 3.55 + 3.2 * e.beta)
            for e in EXTRA]
    return out


def _discretise(latent: np.ndarray, cuts: tuple[float, ...], low: int) -> np.ndarray:
    out = np.full(latent.shape, low, dtype=np.int8)
    for c in cuts:
        out += latent > c
    return out


def _latent_r2(attrs: list[_Attr]) -> float:
    beta = np.array([a.beta for a in attrs])
    lam = np.array([_EXTRA_LOADING[a.dimension] for a in attrs])
    dims = np.array([a.dimension for a in attrs])
    corr = np.outer(lam, lam) * np.where(dims[:, None] == dims[None, :], 1.0, _FACTOR_CORR)
    np.fill_diagonal(corr, 1.0)
    return float(beta @ corr @ beta)


def _int_column(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return pa.array(values, mask=missing, type=pa.from_numpy_dtype(values.dtype))


def _comments(rng: np.random.Generator, attrs: list[_Attr], perf: np.ndarray, overall: np.ndarray) -> np.ndarray:
    """Comments of a random 5% of respondents about their best- (satisfied) or worst-rated
    (dissatisfied) attribute, in English, Vietnamese or Chinese; a few hostile strings among them."""
    n = len(overall)
    who = np.flatnonzero(rng.random(n) < _COMMENT_SHARE)
    out = np.full(n, None, dtype=object)
    if not len(who):
        return out
    p = perf[who].astype(float)
    p[p < 0] = np.nan
    positive = overall[who] >= 4
    with np.errstate(invalid="ignore"):
        key = np.where(positive[:, None], np.nan_to_num(p, nan=-9), -np.nan_to_num(p, nan=99))
    # best-rated attribute for the satisfied, worst-rated for the others (random among ties)
    key = key + rng.random(key.shape) * 0.5
    attr = key.argmax(axis=1)
    langs = rng.choice(np.array(["en", "vi", "zh"]), size=len(who), p=[0.75, 0.15, 0.10])
    pick = rng.random(len(who))
    texts = np.empty(len(who), dtype=object)
    for j, a in enumerate(attrs):
        for lang in ("en", "vi", "zh"):
            for mood in (True, False):
                rows = np.flatnonzero((attr == j) & (langs == lang) & (positive == mood))
                if not len(rows):
                    continue
                if a.id in survey.PHRASES:
                    pool = survey.PHRASES[a.id][lang][0 if mood else 1]
                else:
                    extra = EXTRA[[e.id for e in EXTRA].index(a.id)]
                    pool = (extra.praise if mood else extra.blame,)
                texts[rows] = np.array(pool, dtype=object)[(pick[rows] * len(pool)).astype(int)]
    # real comments are (almost) all different: a neutral second sentence with numbers in it
    years = rng.integers(1, 41, len(who)).astype(str)
    ref = pd.Series(rng.integers(0, 10**6, len(who))).astype(str).str.zfill(6).to_numpy(dtype=object)
    filler = np.array(_FILLERS, dtype=object)[rng.integers(0, len(_FILLERS), len(who))]
    texts = texts + " " + filler + " Customer for " + years.astype(object) + " years, ref " + ref + "."
    hostile = rng.random(len(who)) < 0.001
    texts[hostile] = np.array(_HOSTILE, dtype=object)[rng.integers(0, len(_HOSTILE), int(hostile.sum()))]
    out[who] = texts
    return out


def generate_study(out_dir: Path, *, n: int, seed: int) -> Path:
    """Write the scale study (study.yaml, responses.parquet and the small files) into ``out_dir``.

    Vectorised: every column is drawn for all respondents at once, attribute by attribute.
    Returns the path of ``study.yaml``.
    """
    if n < MIN_N:
        raise ValueError(f"n must be at least {MIN_N:,} (every region x channel cell populated), got {n}")
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    attrs = scale_attributes()
    regions, channels, waves = model.REGIONS, model.CHANNELS, model.WAVES

    wave = (rng.random(n) < 0.5).astype(np.int8)
    region = rng.choice(len(regions), size=n, p=np.array(model.REGION_PROBS)).astype(np.int8)
    p_digital = np.array([model.DIGITAL_GIVEN_REGION[r] for r in regions])[region]
    digital = (rng.random(n) < p_digital).astype(np.int8)
    region_shift = np.array([0.0, -0.05, 0.10, -0.20])[region]
    g = rng.standard_normal(n)
    factors = {d: math.sqrt(_FACTOR_CORR) * g + math.sqrt(1 - _FACTOR_CORR) * rng.standard_normal(n)
               for d in ("product", "process", "people")}
    del g
    cuts = (1.5, 2.5, 3.5, 4.5)
    y = (np.array([0.0, -0.10, 0.15, -0.30])[region] + np.array([0.0, -0.10])[digital]
         + np.array([0.0, 0.12])[wave])
    columns: dict[str, pa.Array] = {}
    perf_all = np.empty((n, len(attrs)), dtype=np.int8)
    missing_perf = np.empty((n, len(attrs)), dtype=bool)
    item_blocks: dict[str, list[tuple[str, np.ndarray, np.ndarray]]] = {"imp": [], "exp": [], "comp": []}
    for j, a in enumerate(attrs):
        lam = _EXTRA_LOADING[a.dimension]
        z = lam * factors[a.dimension] + math.sqrt(1 - lam * lam) * rng.standard_normal(n)
        y += a.beta * z
        loc = a.perf + 0.1 * wave + region_shift + (0.1 if j % 3 == 0 else -0.05) * digital
        perf_all[:, j] = _discretise(loc + a.perf_sd * z, cuts, 1)
        missing_perf[:, j] = rng.random(n) < rng.uniform(0.02, 0.04)
        item_blocks["imp"].append((f"imp_{a.id}", _discretise(a.importance + 0.85 * rng.standard_normal(n), cuts, 1),
                                   rng.random(n) < 0.02))
        item_blocks["exp"].append((f"exp_{a.id}", _discretise(a.expect + 0.80 * rng.standard_normal(n), cuts, 1),
                                   rng.random(n) < 0.02))
        if a.comp is not None:
            item_blocks["comp"].append((f"comp_{a.id}",
                                        _discretise(a.comp + 0.95 * rng.standard_normal(n), cuts, 1),
                                        rng.random(n) < 0.05))
    r2 = _latent_r2(attrs)
    y += math.sqrt(1 - r2) * rng.standard_normal(n)

    # data-quality issues: straight-liners (0.4%), speeders (3%), copied answer rows (20)
    straight = rng.random(n) < 0.004
    perf_all[straight] = rng.choice(np.array([3, 4, 5], dtype=np.int8), size=int(straight.sum()))[:, None]
    missing_perf[straight] = False
    duration = np.maximum(np.rint(rng.lognormal(math.log(420.0), 0.30, n)), 165).astype(np.int32)
    speeder = rng.random(n) < 0.03
    duration[speeder] = rng.integers(30, 111, size=int(speeder.sum()))

    overall = _discretise(y, (-2.1, -1.4, -0.55, 0.8), 1)
    last = _discretise(0.1 + 0.7 * y + math.sqrt(0.51) * rng.standard_normal(n), (-2.1, -1.4, -0.55, 0.8), 1)
    recommend = _discretise(8.1 + 1.7 * (0.8 * y + 0.6 * rng.standard_normal(n)),
                            tuple(k + 0.5 for k in range(10)), 0)
    repeat = (rng.random(n) < 1 / (1 + np.exp(-(1.1 + 0.9 * y)))).astype(np.int8)

    ids = pd.Series(np.arange(1, n + 1)).astype(str).str.zfill(len(str(n))).radd("R")
    columns["respondent_id"] = pa.array(ids.to_numpy(dtype=object), type=pa.string())
    columns["wave"] = pa.DictionaryArray.from_arrays(pa.array(wave), pa.array(list(waves))).cast(pa.string())
    columns["region"] = pa.DictionaryArray.from_arrays(pa.array(region), pa.array(list(regions))).cast(pa.string())
    columns["channel"] = pa.DictionaryArray.from_arrays(pa.array(digital),
                                                        pa.array(list(channels))).cast(pa.string())
    columns["duration_s"] = _int_column(duration)
    for j, a in enumerate(attrs):
        columns[f"perf_{a.id}"] = _int_column(perf_all[:, j], missing_perf[:, j])
    for kind in ("imp", "exp", "comp"):
        for name, values, miss in item_blocks[kind]:
            columns[name] = _int_column(values, miss)
    columns["overall_sat"] = _int_column(overall)
    columns["sat_last_contact"] = _int_column(last)
    columns["recommend"] = _int_column(recommend)
    columns["repeat_12m"] = _int_column(repeat)
    for name, a0, b in (("praise_us", -0.20, 0.60), ("aware_unaided", 0.15, 0.25), ("referred", -0.90, 0.50)):
        columns[name] = _int_column((a0 + b * y + math.sqrt(1 - b * b) * rng.standard_normal(n) > 0).astype(np.int8))
    for name, loc, b in (("price_sensitivity", 3.30, -0.45), ("competitor_attitude", 3.00, -0.50),
                         ("incident_tolerance", 3.10, 0.55)):
        values = _discretise(loc + b * y + math.sqrt(1 - b * b) * rng.standard_normal(n), cuts, 1)
        columns[name] = _int_column(values, rng.random(n) < 0.02)
    perf_for_comments = np.where(missing_perf, -1, perf_all)
    columns["comment"] = pa.array(_comments(rng, attrs, perf_for_comments, overall), type=pa.string())
    del perf_for_comments

    table = pa.table(columns)
    # 20 respondents whose answers were copied from another respondent (other ids): duplicates
    src = rng.choice(n // 2, size=20, replace=False)
    dst = n // 2 + rng.choice(n - n // 2, size=20, replace=False)
    order = np.arange(n)
    order[dst] = src
    copied = table.take(pa.array(order))
    table = copied.set_column(0, "respondent_id", table.column("respondent_id"))
    pq.write_table(table, out_dir / "responses.parquet", compression="snappy")

    counts = {"region": np.bincount(region, minlength=len(regions)),
              "channel": np.bincount(digital, minlength=len(channels))}
    _write_population(out_dir / "population.csv", counts, regions, channels, n)
    _write_codebook(out_dir / "codebook.yaml")
    for name in ("goals.yaml", "complaints.csv", "lost_reasons.csv"):
        shutil.copyfile(sample_dir() / name, out_dir / name)
    (out_dir / "study.yaml").write_text(_study_yaml(attrs, seed, n), encoding="utf-8")
    return out_dir / "study.yaml"


def _write_population(path: Path, counts: dict[str, np.ndarray], regions: tuple[str, ...],
                      channels: tuple[str, ...], n: int) -> None:
    # 20 customers per respondent; the customer base has fewer digital customers and fewer in
    # Hanoi than the sample, so raking has work to do. Response rates 15-35%.
    total = 20 * n
    pop = {"region": dict(zip(regions, np.round(total * np.array([0.29, 0.42, 0.16, 0.13])).astype(int),
                              strict=True)),
           "channel": dict(zip(channels, np.round(total * np.array([0.55, 0.45])).astype(int), strict=True))}
    pop["channel"]["digital"] = total - pop["channel"]["branch"]
    pop["region"]["Can Tho"] = total - sum(v for k, v in pop["region"].items() if k != "Can Tho")
    rates = {"region": (0.22, 0.17, 0.26, 0.15), "channel": (0.30, 0.20)}
    lines = ["segment,value,population,invited"]
    for seg, names in (("region", regions), ("channel", channels)):
        for k, name in enumerate(names):
            invited = min(pop[seg][name], int(round(counts[seg][k] / rates[seg][k])))
            lines.append(f"{seg},{name},{pop[seg][name]},{invited}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _write_codebook(path: Path) -> None:
    text = (sample_dir() / "codebook.yaml").read_text(encoding="utf-8")
    present = {line.split(":", 1)[1].strip() for line in text.splitlines() if line.strip().startswith("- id:")}
    lines = [text.rstrip("\n")]
    for e in EXTRA:
        if e.id in present:
            continue
        lines += [f"  - id: {e.id}", f"    label: {_q(e.label)}", f"    dimension: {e.dimension}",
                  f"    theme: {_q(e.theme)}", "    keywords: [" + ", ".join(_q(k) for k in e.keywords) + "]"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _study_yaml(attrs: list[_Attr], seed: int, n: int) -> str:
    lines = [f"# Generated by benchmarks/scale.py with seed {seed} and n {n}.",
             f"name: {_q(f'Scale benchmark: {n:,} responses x {len(attrs)} attributes')}",
             "language: en",
             "min_cell_size: 5",
             f"seed: {seed}",
             "responses:",
             "  file: responses.parquet",
             "  id: respondent_id",
             "  wave: wave",
             "  segments: [region, channel]",
             "  comments: comment",
             "  duration: duration_s",
             "scales: {default: [1, 5], recommend: [0, 10]}",
             "overall: overall_sat",
             "satisfaction_items: [sat_last_contact]",
             "recommend: recommend",
             "attributes:"]
    for a in attrs:
        comp = f", competitor: comp_{a.id}" if a.comp is not None else ""
        lines.append(f"  - {{id: {a.id}, label: {_q(a.label)}, dimension: {a.dimension}, performance: perf_{a.id}, "
                     f"importance: imp_{a.id}, expectation: exp_{a.id}{comp}}}")
    lines += ["loyalty: {repeat: repeat_12m, price_sensitivity: price_sensitivity, "
              "competitor_attitude: competitor_attitude, incident_tolerance: incident_tolerance}",
              "market: {praise: praise_us, awareness: aware_unaided, referral: referred, sales_growth: 0.04, "
              f"customers: {20 * n}, customers_new: {2 * n}, customers_lost: {n}}}",
              "population: population.csv",
              "complaints: {file: complaints.csv}",
              "lost_customers: {file: lost_reasons.csv}",
              "codebook: codebook.yaml",
              "goals: goals.yaml",
              ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- running the stages
STAGES = ("03_measurement", "04_analysis", "05_action_progress")


class Step(NamedTuple):
    name: str
    seconds: float
    cpu: float
    rss_mib: float


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def _cells(stage: str) -> Iterator[tuple[str, str]]:
    """``(section heading, code)`` of every code cell of a stage notebook but the parameters cell."""
    import nbformat

    from csm_helpers.study.stages import notebooks_dir

    nb = nbformat.read(notebooks_dir() / f"{stage}.ipynb", as_version=4)
    heading = "setup"
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("## "):  # a section; the title (#) leaves "setup"
                    heading = line.lstrip("#").strip()
                    break
        elif cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", []):
            yield ("metrics.json" if "record_metrics(" in cell.source else heading), cell.source


class _Sink:
    """Stands in for the notebook front end: counts what the report would show."""

    def __init__(self) -> None:
        self.tables = self.figures = self.chart_bytes = 0

    def __call__(self, obj: Any, **options: Any) -> None:
        data = getattr(obj, "data", None)
        if options.get("raw") and "image/svg+xml" in obj:  # an SVG chart, as display.show_figure hands it over
            self.figures += 1
            self.chart_bytes += len(obj["image/svg+xml"].encode())
        elif isinstance(data, bytes):  # a PNG (a researcher's own matplotlib figure)
            self.figures += 1
            self.chart_bytes += len(data)
        else:
            self.tables += 1


def run_analysis(study_path: Path, *, out_dir: Path, record: Callable[[str, Callable[[], Any]], Any]) -> _Sink:
    """Run stages 03-05 and the report summary on one shared StageContext, timing each step."""
    import csm_helpers.workbook as workbook  # what the notebooks import open_stage from
    from csm_helpers.present import display
    from csm_helpers.present.charts.fonts import set_font_per_chart

    set_font_per_chart(False)  # as in a report: one font for the page, made when it is exported
    from csm_helpers.workbook.summary import report_summary

    ctx = record("open study", lambda: workbook.open_stage(STAGES[0], study_path=str(study_path), segment="all",
                                                           output_dir=str(out_dir)))
    record("load + validate responses", lambda: ctx.all_responses)
    record("quality flags", lambda: ctx.quality_flags)
    record("exclusions + raking weights", lambda: ctx.kept_responses)
    record("segment + latest wave data", lambda: (ctx.analysis_data, ctx.current))

    sink = _Sink()
    real_open, real_display = workbook.open_stage, display._display

    def shared_context(stage: str, **_: Any) -> workbook.StageContext:
        ctx.stage = stage
        return ctx

    workbook.open_stage = shared_context
    display._display = sink
    try:
        for stage in STAGES:
            namespace: dict[str, Any] = {"study_path": str(study_path), "segment": "all",
                                         "output_dir": str(out_dir)}
            for heading, code in _cells(stage):
                record(f"{stage[:2]} {heading}", lambda code=code, ns=namespace: exec(code, ns))
        record("report summary", lambda: report_summary(ctx))
    finally:
        workbook.open_stage, display._display = real_open, real_display
    return sink


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=DEFAULT_N, help="responses (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the generated study")
    parser.add_argument("--keep", type=Path, help="write the study into this folder and keep it")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the analysis to this file")
    args = parser.parse_args(argv)
    if args.n < MIN_N:
        parser.error(f"--n must be at least {MIN_N:,}, got {args.n}")

    steps: list[Step] = []

    def record(name: str, func: Callable[[], Any]) -> Any:
        t0, c0 = time.perf_counter(), time.process_time()
        result = func()
        steps.append(Step(name, time.perf_counter() - t0, time.process_time() - c0, peak_rss_mib()))
        return result

    with contextlib.ExitStack() as stack:
        folder = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="csm-scale-")))
        t0 = time.perf_counter()
        study_path = generate_study(folder / "study", n=args.n, seed=args.seed)
        gen_seconds = time.perf_counter() - t0
        gen_rss = peak_rss_mib()
        gc.collect()
        profiler = cProfile.Profile() if args.profile else None
        t_start, c_start = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        sink = run_analysis(study_path, out_dir=folder / "out", record=record)
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        total, cpu = time.perf_counter() - t_start, time.process_time() - c_start
        peak = peak_rss_mib()

    width = max(len(s.name) for s in steps)
    print(f"csm scale benchmark: n = {args.n:,} responses x {len(scale_attributes())} attributes, "
          f"seed {args.seed}, {os.cpu_count()} CPU(s), pid {os.getpid()}")
    print(f"{'generate study (not in the total)':<{width}}  {gen_seconds:7.2f} s   peak {gen_rss:7.0f} MiB")
    print(f"{'step':<{width}}  {'wall':>9}  {'CPU':>9}   {'peak RSS so far':>15}")
    for s in steps:
        print(f"{s.name:<{width}}  {s.seconds:7.2f} s  {s.cpu:7.2f} s   {s.rss_mib:11.0f} MiB")
    print(f"{'TOTAL analysis':<{width}}  {total:7.2f} s  {cpu:7.2f} s")
    print(f"{'PEAK RSS (whole process)':<{width}}  {peak:7.0f} MiB")
    print(f"charts rendered: {sink.figures} ({sink.chart_bytes / 1024:.0f} KiB of SVG); tables/texts: {sink.tables}")
    ok_time, ok_mem = total < 60, peak < 4096
    print(f"targets (SPEC §5): total < 60 s {'met' if ok_time else 'NOT met'}; "
          f"peak < 4 GB {'met' if ok_mem else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
