"""Time ``csm run`` on the bundled sample: the whole study, and one edited stage (issue 14).

    .venv/bin/python benchmarks/run.py [--repeat 3] [--before DIR] [--naive] [--json FILE]

Each contender is a command a user would type, run as a subprocess in a new temporary output
folder, ``--repeat`` times (the median is reported, and the best):

* ``csm run`` — the five stages of the sample (n = 2,400), default ``--jobs`` (one kernel per
  core, at most one per stage);
* ``csm run --jobs 1`` — the same on one kernel, stages one after another;
* ``csm run --stages 04`` — one edited stage;
* ``papermill`` stage 04 — SPEC §5's yardstick: one ``papermill`` command-line call on the
  stage 04 notebook alone (no HTML export).

``--before DIR`` also times the same commands with the csm-workbook code of ``DIR`` (a
checkout of an earlier commit, e.g. ``git worktree add /tmp/before HEAD~3``; it is put first
on ``PYTHONPATH``), so the before and after figures come from one run on one machine.
``--naive`` also times the way without csm: the ``papermill`` command line for each stage
notebook, then ``jupyter nbconvert --template csm_report`` for the five.

For each: wall time (median, best), CPU time of every process started (user + system) and
peak memory of the process tree. Then two checks: the reports of ``csm run`` and of
``csm run --jobs 1`` are the same apart from their generation time, and their ``metrics.json``
are byte-identical; and the size of every report (the limit is 2 MB). The machine is shared:
run it when nothing else is busy.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch import BIN, Meter  # noqa: E402  (benchmarks/batch.py: the same meter for both scripts)

STAGES = ("01_goal_setting", "02_discovery", "03_measurement", "04_analysis", "05_action_progress")
_STAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")


def _env(code: Path | None) -> dict[str, str]:
    env = {**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    if code is not None:
        env["PYTHONPATH"] = f"{code}{os.pathsep}{env.get('PYTHONPATH', '')}"
    return env


#: The ``csm`` command with the code of another checkout: the console script's entry point
#: (pyproject's ``[project.scripts]``), loaded from the code first on ``sys.path``. (Calling
#: ``cli.main`` instead would also time the interpreter's teardown, 0.3 s, which ``csm`` skips.)
_CSM_SCRIPT = ("import sys; from importlib.metadata import entry_points; "
               "(ep,) = entry_points(group='console_scripts', name='csm'); sys.exit(ep.load()())")


def _csm(args: list[str], out: Path, code: Path | None) -> None:
    """``csm run`` with the code (and the stage notebooks) of checkout ``code``, or of this one
    (the installed ``csm`` command itself).

    It runs in the output's parent folder: ``python -c`` puts the current folder first on
    ``sys.path``, so started from this checkout it would import this checkout's code whatever
    ``PYTHONPATH`` says (the kernels, started elsewhere, would then run the other's: a mix).
    """
    csm = [str(BIN / "csm")]
    if code is not None:
        args = ["--notebooks", str(code / "notebooks"), *args]  # its notebooks call its helpers
        csm = [sys.executable, "-c", _CSM_SCRIPT]
    cmd = [*csm, "run", "--out", str(out), "--quiet", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(code), cwd=out.parent)
    if proc.returncode != 0:
        raise SystemExit(f"failed: csm run {' '.join(args)}\n{proc.stderr[-3000:]}")


def _papermill(stages: tuple[str, ...], folder: Path, code: Path | None) -> list[str]:
    """The ``papermill`` command line once per stage notebook, on the sample's ``all`` segment;
    the executed notebooks' paths."""
    from csm_helpers.study.datasets import sample_study_path
    from csm_helpers.study.stages import notebooks_dir

    folder.mkdir(parents=True)
    executed = []
    for stage in stages:
        target = folder / f"{stage}.ipynb"
        subprocess.run([str(BIN / "papermill"), str(notebooks_dir() / f"{stage}.ipynb"), str(target),
                        "-p", "study_path", str(sample_study_path()), "-p", "segment", "all",
                        "-p", "output_dir", str(folder), "--cwd", str(notebooks_dir()), "--no-progress-bar"],
                       check=True, capture_output=True, env=_env(code))
        executed.append(str(target))
    return executed


def _naive(out: Path, code: Path | None) -> None:
    from csm_helpers.present.templates import templates_dir

    folder = out / "all"
    executed = _papermill(STAGES, folder, code)
    subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--template", "csm_report",
                    f"--TemplateExporter.extra_template_basedirs={templates_dir()}", "--no-input", "--no-prompt",
                    "--HTMLExporter.embed_images=True", "--output-dir", str(folder), *executed],
                   check=True, capture_output=True, env=_env(code))


def _time(label: str, work, repeat: int) -> dict[str, float]:  # noqa: ANN001 - a callable of one Path
    walls, cpus, peaks = [], [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp, Meter() as meter:
            work(Path(tmp) / "out")
        walls.append(meter.wall)
        cpus.append(meter.cpu)
        peaks.append(meter.peak_tree)
    row = {"wall_median": statistics.median(walls), "wall_best": min(walls), "cpu": statistics.median(cpus),
           "peak_mib": max(peaks) / 2**20}
    print(f"{label:<44} {row['wall_median']:7.1f} {row['wall_best']:7.1f} {row['cpu']:8.1f} "
          f"{row['peak_mib']:9.0f} MiB", flush=True)
    return row


def _same_reports(a: Path, b: Path) -> list[str]:
    problems = []
    for name in sorted(p.name for p in (a / "all").iterdir() if not p.name.startswith(".")):  # (the manifest
        # holds the pages' digests, so it differs with their generation time)
        left, right = (a / "all" / name).read_bytes(), (b / "all" / name).read_bytes()
        if name.endswith(".html"):
            left, right = (_STAMP.sub("<time>", x.decode()).encode() for x in (left, right))
        if left != right:
            problems.append(name)
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command (default 3)")
    parser.add_argument("--before", type=Path, default=None, metavar="DIR",
                        help="also time the code of this checkout (an earlier commit)")
    parser.add_argument("--naive", action="store_true", help="also time papermill CLI + nbconvert CLI")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    print(f"csm run on the bundled sample (n = 2,400, five stages), {args.repeat} runs each, {cores} CPUs\n")
    print(f"{'':<44} {'median':>7} {'best':>7} {'CPU s':>8} {'peak RSS':>13}")
    rows: dict[str, dict[str, float]] = {}
    versions = ([("before", args.before.resolve())] if args.before else []) + [("after", None)]
    for tag, code in versions:
        rows[f"{tag}: csm run"] = _time(f"{tag}: csm run", lambda o, c=code: _csm([], o, c), args.repeat)
        rows[f"{tag}: csm run --stages 04"] = _time(f"{tag}: csm run --stages 04",
                                                    lambda o, c=code: _csm(["--stages", "04"], o, c), args.repeat)
    rows["after: csm run --jobs 1"] = _time("after: csm run --jobs 1", lambda o: _csm(["--jobs", "1"], o, None),
                                            args.repeat)
    rows["papermill CLI, stage 04 alone"] = _time("papermill CLI, stage 04 alone",
                                                  lambda o: _papermill(("04_analysis",), o / "all", None), args.repeat)
    if args.naive:
        rows["papermill CLI + nbconvert CLI"] = _time("papermill CLI + nbconvert CLI", lambda o: _naive(o, None), 1)
    if args.before:
        for what in ("csm run", "csm run --stages 04"):
            b, a = rows[f"before: {what}"]["wall_median"], rows[f"after: {what}"]["wall_median"]
            print(f"{what:<30} before {b:6.1f} s  after {a:6.1f} s  ({b / a:.1f}x)")
    whole, one_stage = rows["after: csm run"]["wall_median"], rows["after: csm run --stages 04"]["wall_median"]
    yardstick = rows["papermill CLI, stage 04 alone"]["wall_median"]
    print(f"\nwhole study: csm run {whole:.1f} s = {whole / yardstick:.2f}x one papermill CLI call on stage 04 alone "
          f"({yardstick:.1f} s); SPEC §5: at most 1.2x; issue 14: at most 10 s")
    print(f"one edited stage: csm run --stages 04 {one_stage:.1f} s; SPEC §5 and issue 14: under 5 s")
    with tempfile.TemporaryDirectory() as tmp:
        one, many = Path(tmp) / "one", Path(tmp) / "many"
        _csm(["--jobs", "1"], one, None)
        _csm([], many, None)
        differ = _same_reports(one, many)
        print("\nreports of csm run and csm run --jobs 1: "
              + ("the same (apart from the generation time); metrics.json byte-identical" if not differ
                 else f"DIFFER: {', '.join(differ)}"))
        sizes = {p.name: p.stat().st_size for p in sorted((many / "all").iterdir()) if p.suffix == ".html"}
    print("report sizes: " + ", ".join(f"{name} {size / 1024:.0f} KiB" for name, size in sizes.items())
          + f" (largest {max(sizes.values()) / 2**20:.2f} MB; limit 2 MB)")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "sizes": sizes, "differ": differ}, indent=2) + "\n")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
