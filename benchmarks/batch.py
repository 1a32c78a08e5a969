"""Time ``csm batch`` against the papermill + nbconvert CLI baseline and the no-notebook floor (SPEC §5).

    .venv/bin/python benchmarks/batch.py [--segments 50] [--stages 04,05] [--jobs 2] [--n 2400]
                                         [--skip-a] [--profile] [--json FILE]

In a temporary folder, ``csm sample`` writes the sample study (n responses) and a ``branch``
column with ``--segments`` values (about n / segments respondents each). Each contender then
writes the reports of every branch plus ``all`` — the same report sets as ``csm batch``:

A  the baseline: per segment, the ``papermill`` CLI for each stage notebook, then one
   ``jupyter nbconvert --to html --template csm_report`` CLI call for the segment's notebooks
   (our template and tag settings); ``--jobs`` segments at a time, to use the same cores.
B  the floor: ``--jobs`` worker processes that import the libraries once; for each segment
   they compute the one-screen summary and ``exec`` the stage notebooks' code cells in a fresh
   namespace (parameters injected, display output discarded) — the same analysis and
   plotting, with no kernel, nbclient or nbconvert. The study-data cache is on, as in C's
   kernels, so B is the pure analysis cost.
C  ``csm batch --jobs J`` as a user runs it (a subprocess).

For each: wall time, CPU time (user + system of every process it started) and peak memory
(RSS summed over the process tree, sampled every 0.2 s; and the largest single process).
Then the ratios A/C (SPEC §5: >= 8) and C/B (target <= 1.5). ``--profile`` also runs C once in
this process and splits its CPU time between this process and the kernels, and profiles B's
per-segment work with cProfile, for the notes. ``--chart-share`` times B's per-segment work
three ways, each in a fresh process warmed up on one segment — as it is; with the charts laid
out but no SVG written; without the charts at all — so that the cost of the charts is
measured, not guessed.
The machine is shared: run it when nothing else is busy.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import importlib
import io
import json
import multiprocessing as mp
import os
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- measuring
class Meter:
    """Wall time, CPU time of child processes, and peak RSS of this process's descendants."""

    def __init__(self, include_self: bool = False) -> None:
        self.include_self = include_self
        self.peak_tree = 0
        self.peak_one = 0
        self._stop = threading.Event()

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            procs = me.children(recursive=True) + ([me] if self.include_self else [])
            for p in procs:
                with contextlib.suppress(psutil.Error):
                    rss = p.memory_info().rss
                    total += rss
                    self.peak_one = max(self.peak_one, rss)
            self.peak_tree = max(self.peak_tree, total)
            self._stop.wait(0.2)

    def __enter__(self) -> Meter:
        self._ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        self._ru_self = resource.getrusage(resource.RUSAGE_SELF)
        self._t0 = time.perf_counter()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._t0
        self._stop.set()
        self._thread.join()
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu = (ru.ru_utime - self._ru.ru_utime) + (ru.ru_stime - self._ru.ru_stime)
        if self.include_self:
            me = resource.getrusage(resource.RUSAGE_SELF)
            self.cpu += (me.ru_utime - self._ru_self.ru_utime) + (me.ru_stime - self._ru_self.ru_stime)


# --------------------------------------------------------------------------- the study
def build_study(folder: Path, *, segments: int, n: int) -> Path:
    from csm_helpers.synthetic.sample import add_branch_column, generate_sample

    return add_branch_column(generate_sample(folder, n=n), branches=segments)


def segment_list(study: Path) -> list[str]:
    import pandas as pd

    branches = pd.read_csv(study.parent / "responses.csv", encoding="utf-8-sig", usecols=["branch"])["branch"]
    return ["all"] + [f"branch={b}" for b in sorted(branches.unique())]


# --------------------------------------------------------------------------- A
def _run(cmd: list[str]) -> None:
    env = {**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")


def baseline_a(study: Path, segments: list[str], stages: list[str], jobs: int, out: Path) -> None:
    from csm_helpers.pipeline.plan import segment_dirname
    from csm_helpers.present.templates import templates_dir
    from csm_helpers.study.stages import notebooks_dir

    nbs = notebooks_dir()
    tags = '["parameters", "injected-parameters", "remove-cell"]'

    def one(segment: str) -> None:
        folder = out / segment_dirname(segment)
        folder.mkdir(parents=True)
        executed = []
        for stage in stages:
            target = folder / f"{stage}.ipynb"
            _run([str(BIN / "papermill"), str(nbs / f"{stage}.ipynb"), str(target), "-p", "study_path", str(study),
                  "-p", "segment", segment, "-p", "output_dir", str(folder), "--cwd", str(nbs),
                  "--no-progress-bar"])
            executed.append(str(target))
        _run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--template", "csm_report",
              f"--TemplateExporter.extra_template_basedirs={templates_dir()}", "--no-input", "--no-prompt",
              "--HTMLExporter.embed_images=True", "--TagRemovePreprocessor.enabled=True",
              f"--TagRemovePreprocessor.remove_cell_tags={tags}",
              '--TagRemovePreprocessor.remove_all_outputs_tags=["hide-output"]',
              "--output-dir", str(folder), *executed])

    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, segments))


# --------------------------------------------------------------------------- B
_CELLS: dict[str, list[tuple[str, str]]] = {}


def _b_init() -> None:
    os.environ["MPLBACKEND"] = "Agg"
    from csm_helpers.pipeline.kernels import PRELUDE_MODULES

    for name in PRELUDE_MODULES:
        __import__(name)
    from csm_helpers.workbook.cache import enable_data_cache

    enable_data_cache()
    from csm_helpers.present.charts.fonts import set_font_per_chart

    set_font_per_chart(False)  # as in C's kernels: the page, not each chart, carries the font


def _b_cells(stage: str) -> list[tuple[str, str]]:
    if stage not in _CELLS:
        import nbformat

        from csm_helpers.study.stages import notebooks_dir

        nb = nbformat.read(notebooks_dir() / f"{stage}.ipynb", as_version=4)
        _CELLS[stage] = [(f"{stage}[{i}]", c.source) for i, c in enumerate(nb.cells)
                         if c.cell_type == "code" and "parameters" not in c.metadata.get("tags", [])]
    return _CELLS[stage]


def _b_segment(args: tuple[str, str, list[str], str]) -> float:
    from csm_helpers.pipeline.plan import segment_dirname
    from csm_helpers.workbook.summary import report_summary_json

    study, segment, stages, out = args
    t0 = time.perf_counter()
    folder = Path(out) / segment_dirname(segment)
    report_summary_json(study, segment)
    for stage in stages:
        ns = {"study_path": study, "segment": segment, "output_dir": str(folder), "__name__": "__main__"}
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            for name, source in _b_cells(stage):
                exec(compile(source, name, "exec"), ns)
    return time.perf_counter() - t0


def floor_b(study: Path, segments: list[str], stages: list[str], jobs: int, out: Path) -> list[float]:
    ctx = mp.get_context("spawn")
    with ctx.Pool(jobs, initializer=_b_init) as pool:
        return pool.map(_b_segment, [(str(study), s, stages, str(out)) for s in segments], chunksize=1)


# --------------------------------------------------------------------------- C
def csm_batch_c(study: Path, stages: list[str], jobs: int, out: Path) -> None:
    _run([str(BIN / "csm"), "batch", "--study", str(study), "--by", "branch", "--stages",
          ",".join(s[:2] for s in stages), "--jobs", str(jobs), "--out", str(out), "--no-progress"])


_FLOOR_PARTS = [  # (label, module file suffix, function; "plot_*": any plot_ function) — cumulative time in B
    ("charts: laid out and drawn (present/charts plot_*)", "charts/" , "plot_*"),
    ("charts: SVG written (canvas.Chart.svg)", "csm_helpers/present/charts/canvas.py", "svg"),
    ("tables to HTML (display.table_html)", "csm_helpers/present/display.py", "table_html"),
    ("key drivers + bootstrap (drivers.key_drivers)", "csm_helpers/analysis/drivers/regression.py", "key_drivers"),
    ("one-screen summary (summary.report_summary)", "csm_helpers/workbook/summary.py", "report_summary"),
]


def profile_b(study: Path, segments: list[str], stages: list[str], out: Path) -> None:
    """Where the floor's time goes: B's work for a few branch segments, in this process."""
    _b_init()
    _b_segment((str(study), segments[1], stages, str(out)))  # warm-up: first reads, caches
    prof = cProfile.Profile()
    picked = segments[2:7]
    t0 = time.perf_counter()
    prof.enable()
    for seg in picked:
        _b_segment((str(study), seg, stages, str(out)))
    prof.disable()
    total = time.perf_counter() - t0
    stats = pstats.Stats(prof).stats  # {(file, line, func): (cc, nc, tt, ct, callers)}
    print(f"\nB under cProfile, {len(picked)} branch segments: {total / len(picked):.2f} s per segment "
          "(profiled; about 1.5-2x the unprofiled time)")
    for label, suffix, func in _FLOOR_PARTS:
        ct = sum(v[3] for k, v in stats.items() if (suffix in k[0] if func.endswith("*") else k[0].endswith(suffix))
                 and (k[2].startswith(func[:-1]) if func.endswith("*") else k[2] == func))
        print(f"  {label:<55} {ct / len(picked):6.2f} s  {100 * ct / total:4.0f}%")


def profile_c(study: Path, stages: list[str], jobs: int, out: Path) -> None:
    """Where C's time goes: this process (nbclient, papermill, HTML export, writing) against the
    kernels (the analysis), and each stage's time per segment. cProfile sees only the main
    thread, which just waits, so the split is measured with getrusage instead."""
    from csm_helpers.pipeline.batch import run_batch

    me0, kids0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    result = run_batch(study, "branch", out_dir=out, stages=[s[:2] for s in stages], jobs=jobs, progress="off")
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    parent = (me.ru_utime - me0.ru_utime) + (me.ru_stime - me0.ru_stime)
    kernels = (kids.ru_utime - kids0.ru_utime) + (kids.ru_stime - kids0.ru_stime)
    done = [o for o in result.outcomes if o.status == "done"]
    print(f"\nC again, in this process: {result.seconds:.1f} s wall, {len(result.failed)} failed")
    print(f"  CPU: kernels (analysis, charts, imports, start-up) {kernels:.1f} s; this process (papermill, "
          f"nbclient messages, HTML export, files) {parent:.1f} s = {parent / len(done):.2f} s per segment")
    print("  per segment (seconds, median over segments, one worker): "
          f"total {statistics.median(o.seconds for o in done):.2f}; "
          + "; ".join(f"{k} {statistics.median(o.timings[k] for o in done):.2f}" for k in done[0].timings))


def _share_worker(args: tuple[str, str, list[str], list[str], str]) -> float:
    """Median seconds of B's per-segment work in a fresh process, with the charts as ``mode`` says."""
    mode, study, segments, stages, out = args
    _b_init()
    from csm_helpers.present.charts import canvas

    if mode != "as it is":  # the charts are laid out, but no SVG is written
        canvas.Chart.svg = lambda self, *, font=None: "<svg/>"
    if mode == "no charts at all":  # nor laid out: every plot_* returns one empty chart
        stub = canvas.Chart("stub")
        stub.finish(10.0)
        for name in ("action", "analysis", "discovery", "goals", "kpis", "measurement", "path_model", "voice"):
            module = importlib.import_module(f"csm_helpers.present.charts.{name}")
            for plot in [n for n in dir(module) if n.startswith("plot_")]:
                setattr(module, plot, lambda *a, **k: stub)
    _b_segment((study, segments[0], stages, out))  # warm-up
    return statistics.median(_b_segment((study, s, stages, out)) for s in segments[1:])


def chart_share(study: Path, segments: list[str], stages: list[str], out: Path) -> None:
    """What the charts cost in a branch report set: B's per-segment work with and without them."""
    picked = [s for s in segments if s != "all"][:9]
    ctx = mp.get_context("spawn")
    modes = ("as it is", "charts laid out, no SVG written", "no charts at all")
    with ctx.Pool(1, maxtasksperchild=1) as pool:  # a fresh process for each way
        times = {m: pool.apply(_share_worker, ((m, str(study), picked, stages, str(out)),)) for m in modes}
    whole = times["as it is"]
    print(f"\nB per branch report set (median of {len(picked) - 1}; each way in its own warm process):")
    for m in modes:
        print(f"  {m:<32} {times[m]:5.2f} s")
    print(f"  charts: writing the SVG {whole - times[modes[1]]:.2f} s "
          f"({100 * (whole - times[modes[1]]) / whole:.0f} %), laying them out "
          f"{times[modes[1]] - times[modes[2]]:.2f} s ({100 * (times[modes[1]] - times[modes[2]]) / whole:.0f} %)")


# --------------------------------------------------------------------------- main
def _fmt(meter: Meter | None) -> str:
    if meter is None:
        return f"{'skipped':>8}"
    return (f"{meter.wall:8.1f} {meter.cpu:8.1f} {meter.peak_tree / 2**20:10.0f} MiB "
            f"{meter.peak_one / 2**20:8.0f} MiB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=50, help="values of the branch column (default 50)")
    parser.add_argument("--n", type=int, default=2400, help="responses in the study (default 2400)")
    parser.add_argument("--stages", default="04,05", help="stages to run (default 04,05)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel workers for A, B and C (default 2)")
    parser.add_argument("--skip-a", action="store_true", help="do not time baseline A (it takes minutes)")
    parser.add_argument("--profile", action="store_true", help="also profile C in-process (cProfile)")
    parser.add_argument("--chart-share", action="store_true",
                        help="also time B per segment without writing the charts' SVG, and without the charts")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    args = parser.parse_args()

    from csm_helpers.study.stages import resolve_stages

    stages = resolve_stages([s.strip() for s in args.stages.split(",") if s.strip()])
    tmp = Path(tempfile.mkdtemp(prefix="csm-bench-batch-"))
    try:
        study = build_study(tmp / "study", segments=args.segments, n=args.n)
        segments = segment_list(study)
        print(f"csm batch benchmark: {len(segments) - 1} branches + all = {len(segments)} report sets, "
              f"stages {', '.join(stages)}, {args.jobs} jobs, {os.cpu_count()} CPUs, "
              f"n={args.n} (~{args.n // max(1, len(segments) - 1)} per branch)", flush=True)
        with Meter() as b:
            b_times = floor_b(study, segments, stages, args.jobs, tmp / "b")
        print(f"B done in {b.wall:.1f} s", flush=True)
        with Meter() as c:
            csm_batch_c(study, stages, args.jobs, tmp / "c")
        print(f"C done in {c.wall:.1f} s", flush=True)
        a = None
        if not args.skip_a:
            with Meter() as a:
                baseline_a(study, segments, stages, args.jobs, tmp / "a")
            print(f"A done in {a.wall:.1f} s", flush=True)

        print(f"\n{'':42}{'wall s':>8} {'CPU s':>8} {'peak RSS (tree)':>15} {'largest':>12}")
        print(f"{'A  papermill CLI + nbconvert CLI':<42}{_fmt(a)}")
        print(f"{'B  floor: exec of the code, no notebooks':<42}{_fmt(b)}")
        print(f"{f'C  csm batch --jobs {args.jobs}':<42}{_fmt(c)}")
        figures = {"segments": len(segments), "stages": stages, "jobs": args.jobs, "n": args.n,
                   "B": {"wall": b.wall, "cpu": b.cpu, "peak_tree": b.peak_tree,
                         "per_segment_median": statistics.median(b_times)},
                   "C": {"wall": c.wall, "cpu": c.cpu, "peak_tree": c.peak_tree}}
        if a is not None:
            figures["A"] = {"wall": a.wall, "cpu": a.cpu, "peak_tree": a.peak_tree}
            print(f"A/C  {a.wall / c.wall:5.1f}x wall, {a.cpu / c.cpu:5.1f}x CPU   (SPEC §5: at least 8x)")
        else:
            print("A/C  n/a (--skip-a)")
        print(f"C/B  {c.wall / b.wall:5.2f}x wall, {c.cpu / b.cpu:5.2f}x CPU   (target: at most 1.5x)")
        print(f"B per segment (median, one worker): {statistics.median(b_times):.2f} s")
        print(f"peak RSS of the whole process tree: A {(a.peak_tree if a else 0) / 2**20:.0f} MiB, "
              f"B {b.peak_tree / 2**20:.0f} MiB, C {c.peak_tree / 2**20:.0f} MiB")
        if args.chart_share:
            chart_share(study, segments, stages, tmp / "b-share")
        if args.profile:
            profile_b(study, segments, stages, tmp / "b-profile")
            profile_c(study, stages, args.jobs, tmp / "c-profile")
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
