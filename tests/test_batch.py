"""``csm batch``: planning and suppression, failure isolation, resume, index, a kill mid-way, the
dask executor, content identity with ``csm run``, and the data cache of warm kernels.

Most tests run a tiny probe notebook (``09_probe``) instead of the real stages, so they take
seconds; the real stage notebooks run in the tests marked slow.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pandas as pd
import psutil
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from csm_helpers.cli import main
from csm_helpers.core.errors import CsmError
from csm_helpers.core.static_html import check_static_html
from csm_helpers.pipeline.batch import plan_batch, run_batch
from csm_helpers.study.config import load_study
from csm_helpers.study.readers import load_responses
from csm_helpers.study.stages import notebooks_dir
from csm_helpers.workbook import cache as data_cache
from csm_helpers.workbook import context as workbook

from .conftest import ROOT, lose_a_ctrl_c, run_cli, write_small_study

PROBE = '''
import pathlib, time
from csm_helpers.present import display as d
from csm_helpers.workbook.context import open_stage
ctx = open_stage("09_probe", study_path=study_path, segment=segment, output_dir=output_dir)
here = pathlib.Path(ctx.study.path).parent
fail = here / "fail.txt"
if fail.exists() and segment in fail.read_text(encoding="utf-8").splitlines():
    raise ValueError(f"planned failure for {segment}")
if (here / "sleep.txt").exists():
    time.sleep(float((here / "sleep.txt").read_text()))
with open(here / "ran.txt", "a", encoding="utf-8") as fh:
    fh.write(segment + "\\n")
d.show_text(f"Probe of {segment}: n = {ctx.n}")
ctx.record_metrics({"kpis": {"csat_top2": {"value": ctx.n / 100, "ci_low": ctx.n / 200, "ci_high": ctx.n / 80,
                                           "n": ctx.n, "target": 0.3, "met": ctx.n / 100 >= 0.3}}})
'''


def probe_notebooks(folder: Path) -> Path:
    """A notebooks folder holding one stage, 09_probe (parameters as the real stages)."""
    folder.mkdir(parents=True, exist_ok=True)
    params = new_code_cell('study_path: str = ""\nsegment: str = "all"\noutput_dir: str = ""')
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[new_markdown_cell("# Probe"), params, new_code_cell(PROBE)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "09_probe.ipynb")
    return folder


def study_with_shops(folder: Path, counts: dict[str, int]) -> Path:
    """The small test study with exactly ``counts`` respondents per value of ``shop``."""
    study = write_small_study(folder, n=sum(counts.values()))
    df = pd.read_csv(study.parent / "answers.csv")
    df["shop"] = [shop for shop, k in counts.items() for _ in range(k)]
    df.to_csv(study.parent / "answers.csv", index=False)
    return study


def ran(study: Path) -> list[str]:
    path = study.parent / "ran.txt"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


# --------------------------------------------------------------------------- plan
def test_plan_suppresses_small_groups_and_their_complement(tmp_path):
    study = study_with_shops(tmp_path / "s", {"Tiny": 3, "Mid": 25, "Big": 40, "Huge": 60})
    plan = plan_batch(study, "shop", ["04"])
    # By the rule of complementary suppression: Tiny (3 < 5) is hidden; hiding only it would let
    # all - Mid - Big - Huge reveal it, so the smallest other group, Mid, is hidden too.
    assert [(s["segment"], s["reason"]) for s in plan.suppressed] == [
        ("shop=Mid", "complementary"), ("shop=Tiny", "primary")]
    assert [(s.segment, s.n, s.dirname) for s in plan.segments] == [
        ("all", 128, "all"), ("shop=Big", 40, "shop=Big"), ("shop=Huge", 60, "shop=Huge")]
    assert plan.run.stages == ["04_analysis"]


def test_plan_rejects_bad_column_and_colliding_folders(tmp_path):
    study = study_with_shops(tmp_path / "s", {"North Side": 10, "North_Side": 10})
    with pytest.raises(CsmError, match=r"'shop=North Side' and 'shop=North_Side' would share the report folder"):
        plan_batch(study, "shop")
    with pytest.raises(CsmError, match=r"--by 'city' is not one of the study's segment columns \(shop\)"):
        plan_batch(study, "city")


def test_cli_usage_errors(tmp_path, capsys):
    for argv in (["batch", "--by", "region", "--executor", "dask"], ["batch", "--by", "region", "--jobs", "0"],
                 ["batch", "--by", "region", "--timeout", "-1"], ["batch"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2, argv
    assert main(["batch", "--by", "city", "--out", str(tmp_path)]) == 1
    assert "--by 'city' is not one of the study's segment columns (region, channel)" in capsys.readouterr().err


# --------------------------------------------------------------------------- runs (probe notebook)
def test_failed_segment_is_isolated_logged_and_resume_redoes_only_it(tmp_path, capsys):
    study = study_with_shops(tmp_path / "s", {"Kowloon": 30, "Shatin": 20, "Tsuen Wan": 10})
    nbs = probe_notebooks(tmp_path / "nbs")
    out = tmp_path / "out"
    (study.parent / "fail.txt").write_text("shop=Shatin\n", encoding="utf-8")
    argv = ["batch", "--study", str(study), "--by", "shop", "--stages", "09", "--notebooks", str(nbs),
            "--out", str(out), "--jobs", "2", "--no-progress"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "failed: shop=Shatin:" in err and "planned failure for shop=Shatin" in err
    assert sorted(ran(study)) == ["all", "shop=Kowloon", "shop=Tsuen Wan"]
    assert not (out / "shop=Shatin").exists()
    for folder in ("all", "shop=Kowloon", "shop=Tsuen_Wan"):
        assert (out / folder / "09_probe.html").is_file() and (out / folder / "metrics.json").is_file()
    log = (out / "batch.log").read_text(encoding="utf-8")
    assert "failed: shop=Shatin" in log and "ValueError: planned failure for shop=Shatin" in log
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "planned failure for shop=Shatin" in index and 'href="shop=Kowloon/09_probe.html"' in index
    assert not list(out.glob(".csm-staging-*"))

    # fixed: --resume runs the failed segment only, and leaves the others' files alone
    (study.parent / "fail.txt").unlink()
    (study.parent / "ran.txt").unlink()
    before = {p: p.stat().st_mtime_ns for p in out.glob("*/*") if p.is_file()}
    assert main([*argv, "--resume"]) == 0
    assert ran(study) == ["shop=Shatin"]
    assert all(p.stat().st_mtime_ns == t for p, t in before.items())
    assert "1 written, 3 already done, 0 failed" in capsys.readouterr().out
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "csm-failed" not in index and "planned failure" not in index and "4 of 4 segment(s) written" in index

    # nothing left to do; then a changed input file makes every segment stale again
    assert main([*argv, "--resume"]) == 0
    assert ran(study) == ["shop=Shatin"]
    with open(study.parent / "answers.csv", "a", encoding="utf-8") as fh:
        fh.write("x999,Kowloon,4,4,4,7,Someone,\n")
    assert main([*argv, "--resume"]) == 0
    assert sorted(ran(study)) == ["all", "shop=Kowloon", "shop=Shatin", "shop=Shatin", "shop=Tsuen Wan"]


def test_index_tiles_suppressed_segments_and_hostile_values(tmp_path):
    hostile = '<img src=x onerror=alert(1)>'
    study = study_with_shops(tmp_path / "s", {"Kowloon": 40, hostile: 12, "Tiny": 3, "Shatin": 20})
    nbs = probe_notebooks(tmp_path / "nbs")
    out = tmp_path / "out"
    stream = io.StringIO()
    result = run_batch(study, "shop", out_dir=out, stages=["09"], notebooks=nbs, jobs=1, progress="lines",
                       stream=stream)
    assert not result.failed and result.count("done") == 3  # all, Kowloon, Shatin; 2 suppressed
    # complementary suppression hides the hostile-named group (12) with Tiny (3): no report for either
    assert {s["segment"] for s in result.suppressed} == {"shop=Tiny", f"shop={hostile}"}
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["all", "shop=Kowloon", "shop=Shatin"]
    index = (out / "index.html").read_text(encoding="utf-8")
    check_static_html(index)
    assert "&lt;img src=x onerror=alert(1)&gt;" in index and "<img src=x" not in index
    suppressed = index.split("<h2>Suppressed segments</h2>")[1]
    assert "shop=Tiny: fewer respondents than the minimum cell size (5)" in suppressed
    assert "complementary suppression" in suppressed and ">3<" not in suppressed
    # each KPI tile shows what the segment's metrics.json says (the probe records n/100)
    for folder in ("all", "shop=Kowloon", "shop=Shatin"):
        m = json.loads((out / folder / "metrics.json").read_text(encoding="utf-8"))
        tile = f'<div class="csm-tile-value">{100 * m["kpis"]["csat_top2"]["value"]:.1f}%</div>'
        row = next(r for r in index.split("<tr") if f'href="{folder}/09_probe.html"' in r)
        assert tile in row and f">{m['n']:,}<" in row
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3 and re.match(r"\[1/3\] \S+ done in \d+\.\d s · failed 0 · ETA \d+m\d\ds", lines[0])


def test_progress_bar_on_a_terminal(tmp_path):
    study = study_with_shops(tmp_path / "s", {"Kowloon": 10, "Shatin": 10})
    (study.parent / "fail.txt").write_text("shop=Shatin\n", encoding="utf-8")
    stream = io.StringIO()
    result = run_batch(study, "shop", out_dir=tmp_path / "out", stages=["09"], notebooks=probe_notebooks(
        tmp_path / "nbs"), jobs=2, progress="bar", stream=stream)
    assert [o.segment for o in result.failed] == ["shop=Shatin"]
    text = stream.getvalue()
    assert "csm batch" in text and "3/3" in text and "failed=1" in text
    assert "failed: shop=Shatin: 09_probe.ipynb failed in cell 3: ValueError: planned failure for shop=Shatin" in text


def test_timeout_fails_the_segment_not_the_batch(tmp_path):
    study = study_with_shops(tmp_path / "s", {"Kowloon": 10, "Shatin": 10})
    (study.parent / "sleep.txt").write_text("60", encoding="utf-8")
    t0 = time.monotonic()
    result = run_batch(study, "shop", out_dir=tmp_path / "out", stages=["09"], notebooks=probe_notebooks(
        tmp_path / "nbs"), jobs=2, timeout=4, progress="off")
    outcomes = [(o.segment, o.status, o.error) for o in result.outcomes]  # (what a failure shows)
    assert time.monotonic() - t0 < 60, (time.monotonic() - t0, outcomes)
    assert len(result.failed) == 3, outcomes
    assert all("timed out after 4 s" in o.error for o in result.failed), outcomes


# --------------------------------------------------------------------------- interruption
def _kernels_of(pid: int) -> list[int]:
    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True) if "ipykernel" in " ".join(p.cmdline())]
    except psutil.NoSuchProcess:
        return []


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _gone(pids: list[int], timeout: float = 20) -> bool:
    """True when every process exits within ``timeout``; else kill them (leave nothing behind)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not any(_running(p) for p in pids):
            return True
        time.sleep(0.2)
    for p in pids:
        with contextlib.suppress(psutil.Error):
            psutil.Process(p).kill()
    return False


def _start_batch(study: Path, nbs: Path, out: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    return subprocess.Popen([sys.executable, "-m", "csm_helpers.cli", "batch", "--study", str(study), "--by", "shop",
                             "--stages", "09", "--notebooks", str(nbs), "--out", str(out), "--jobs", "1",
                             "--no-progress", *extra], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=_sigint_as_in_a_terminal)


def _sigint_as_in_a_terminal() -> None:
    """A foreground command's Ctrl-C: SIGINT's default action (a test worker may ignore it, and
    a child keeps "ignore" across exec, as a shell's background job rightly does)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_done(out: Path, k: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        log = out / "batch.log"
        if log.exists() and log.read_text(encoding="utf-8").count("done: ") >= k:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    raise AssertionError("the batch did not get going")


def _assert_no_partial_html(out: Path) -> None:
    for path in out.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert text.rstrip().endswith("</html>"), path


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_killed_batch_leaves_no_partial_html_and_resume_completes(tmp_path, sig):
    """Killed (SIGKILL), terminated (SIGTERM) or interrupted (Ctrl-C) in its third segment."""
    study = study_with_shops(tmp_path / "s", {f"Shop {i}": 10 for i in range(5)})
    (study.parent / "sleep.txt").write_text("0.7", encoding="utf-8")
    nbs = probe_notebooks(tmp_path / "nbs")
    out = tmp_path / "out"
    proc = _start_batch(study, nbs, out)
    try:
        _wait_done(out, 2, proc)
        kernels = _kernels_of(proc.pid)
        assert kernels
        proc.send_signal(sig)
        _stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    if sig != signal.SIGKILL:
        assert proc.returncode == 130 and "Traceback" not in stderr.decode(), stderr.decode()[-2000:]
    assert _gone(kernels), "kernel processes outlived the batch"
    _assert_no_partial_html(out)
    done_before = {p.parent.name for p in out.glob("*/metrics.json")}
    assert 2 <= len(done_before) < 6
    if sig != signal.SIGKILL:  # a clean stop: no staging left, the index says what is missing
        assert not list(out.glob(".csm-staging-*"))
        state = json.loads((out / "batch.json").read_text(encoding="utf-8"))
        assert {s["status"] for s in state["segments"]} <= {"done", "pending"}
        assert "not run (the batch was interrupted)" in (out / "index.html").read_text(encoding="utf-8")

    (study.parent / "ran.txt").unlink()
    (study.parent / "sleep.txt").unlink()
    proc = _start_batch(study, nbs, out, "--resume")
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr.decode()
    assert len(ran(study)) == 6 - len(done_before)
    assert {p.parent.name for p in out.glob("*/metrics.json")} == {"all"} | {f"shop=Shop_{i}" for i in range(5)}
    assert not list(out.glob(".csm-staging-*"))
    _assert_no_partial_html(out)


def test_a_ctrl_c_lost_in_a_weakref_callback_starts_no_more_segments(tmp_path, monkeypatch, capsys):
    """A Ctrl-C that lands in a weakref callback cannot be raised there; Python prints it and
    goes on. csm notes it: the batch then starts no new segment and ends interrupted (exit 130,
    one line, the segments left for --resume), instead of running all of them first."""
    from csm_helpers.pipeline import batch

    study = study_with_shops(tmp_path / "s", {f"Shop {i}": 10 for i in range(5)})
    nbs = probe_notebooks(tmp_path / "nbs")
    out = tmp_path / "out"
    real_plan = batch.plan_batch

    def plan_and_lose_a_ctrl_c(*args, **kwargs):
        lose_a_ctrl_c()
        return real_plan(*args, **kwargs)

    monkeypatch.setattr(batch, "plan_batch", plan_and_lose_a_ctrl_c)
    code = main(["batch", "--study", str(study), "--by", "shop", "--stages", "09", "--notebooks", str(nbs),
                 "--out", str(out), "--jobs", "2", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 130 and "interrupted after" in err and "Traceback" not in err and "Exception ignored" not in err
    assert ran(study) == []  # no segment was started
    state = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    assert {s["status"] for s in state["segments"]} == {"pending"}
    assert "not run (the batch was interrupted)" in (out / "index.html").read_text(encoding="utf-8")
    assert not list(out.glob(".csm-staging-*"))


# --------------------------------------------------------------------------- real stage notebooks
def _strip_time(text: str) -> str:
    return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", "<time>", text)


@pytest.fixture(scope="module")
def sample_batch(tmp_path_factory):
    """`csm batch` on the bundled sample by region (stages 04, 05), in its own process."""
    out = tmp_path_factory.mktemp("batch_region")
    proc = run_cli("batch", "--by", "region", "--stages", "04,05", "--jobs", "2", "--out", str(out))
    return out, proc


@pytest.mark.slow
def test_sample_batch_by_region(sample_batch):
    out, proc = sample_batch
    assert proc.returncode == 0, proc.stderr
    assert "5 segment(s) — 5 written, 0 failed, 0 suppressed" in proc.stdout
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert folders == ["all", "region=Can_Tho", "region=Da_Nang", "region=Hanoi", "region=Ho_Chi_Minh_City"]
    index = (out / "index.html").read_text(encoding="utf-8")
    check_static_html(index)
    for folder in folders:
        m = json.loads((out / folder / "metrics.json").read_text(encoding="utf-8"))
        assert m["generated_with"]["parameters"]["stages"] == ["04_analysis", "05_action_progress"]
        row = next(r for r in index.split("<tr") if f'href="{folder}/04_analysis.html"' in r)
        nps = m["kpis"]["nps"]["value"]
        nps_text = f"{nps:+.1f}".replace("-", "\u2212")  # the typographic minus of the KPI catalogue
        assert f'<div class="csm-tile-value">{nps_text}</div>' in row
        assert f'<div class="csm-tile-value">{100 * m["kpis"]["csat_top2"]["value"]:.1f}%</div>' in row


@pytest.mark.slow
def test_batch_report_equals_csm_run_report(sample_batch, tmp_path):
    """What csm batch writes for a segment is what csm run --segment writes (papermill with a
    new kernel per notebook), apart from the generation time."""
    out, proc = sample_batch
    assert proc.returncode == 0, proc.stderr
    run = run_cli("run", "--segment", "region=Can Tho", "--stages", "04,05", "--out", str(tmp_path))
    assert run.returncode == 0, run.stderr
    a, b = out / "region=Can_Tho", tmp_path / "region=Can_Tho"
    def listing(d):  # csm run also keeps a .csm-manifest.json (its --resume record)
        return sorted(p.name for p in d.iterdir() if not p.name.startswith("."))

    assert listing(a) == listing(b)
    for name in ("04_analysis.html", "05_action_progress.html"):
        batch_html, run_html = (_strip_time(p.joinpath(name).read_text(encoding="utf-8")) for p in (a, b))
        assert batch_html.count('<svg xmlns="http://www.w3.org/2000/svg" class="csm-chart') >= 3 and "csm-tile" in batch_html
        assert batch_html == run_html, name
    for name in ("metrics.json", "05_action_register.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


@pytest.mark.slow
def test_dask_executor_on_a_local_cluster(tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    from csm_helpers.pipeline import daskexec

    study = study_with_shops(tmp_path / "s", {"Kowloon": 30, "Shatin": 20})
    threads = run_batch(study, "shop", out_dir=tmp_path / "threads", stages=["01"], jobs=2, progress="off")
    assert not threads.failed
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        result = run_batch(study, "shop", out_dir=tmp_path / "dask", stages=["01"], executor="dask",
                           scheduler=cluster.scheduler_address, progress="off")
        with distributed.Client(cluster) as client:
            pids = [p for ps in client.run(lambda: [k.pid for k in daskexec._KERNELS.values()]).values()
                    for p in ps]
    assert not result.failed and result.count("done") == 3
    assert 1 <= len(pids) <= 2  # one warm kernel per worker thread, reused across segments
    assert _gone(pids), "the dask worker's kernels outlived the cluster"
    for folder in ("all", "shop=Kowloon", "shop=Shatin"):
        a, b = tmp_path / "threads" / folder, tmp_path / "dask" / folder
        assert (a / "metrics.json").read_bytes() == (b / "metrics.json").read_bytes()
        assert (_strip_time((a / "01_goal_setting.html").read_text(encoding="utf-8"))
                == _strip_time((b / "01_goal_setting.html").read_text(encoding="utf-8")))
    monkeypatch.setattr(daskexec, "CONNECT_TIMEOUT", 2.0)  # (30 s by default: dask retries until then)
    with pytest.raises(CsmError, match="cannot reach the dask scheduler at tcp://127.0.0.1:9"):
        run_batch(study, "shop", out_dir=tmp_path / "none", stages=["01"], executor="dask",
                  scheduler="tcp://127.0.0.1:9", progress="off")


# --------------------------------------------------------------------------- data cache
@pytest.fixture
def cache_on():
    data_cache.enable_data_cache()
    yield
    data_cache.disable_data_cache()


def test_data_cache_gives_the_same_tables_read_once(small_study, cache_on):
    study = load_study(small_study)
    reference = load_responses(study).data  # read directly, no cache
    first = workbook.open_stage("04_analysis", study_path=str(small_study)).all_responses
    second = workbook.open_stage("05_action_progress", study_path=str(small_study)).all_responses
    pd.testing.assert_frame_equal(first, reference)
    pd.testing.assert_frame_equal(second, reference)
    stats = data_cache.data_cache_stats()
    assert stats["misses"] == 1 and stats["hits"] == 1


def test_data_cache_copies_cannot_change_the_next_notebook(small_study, cache_on):
    ctx = workbook.open_stage("04_analysis", study_path=str(small_study), segment="shop=Kowloon")
    data = ctx.kept_responses
    original = data["q_overall"].copy()
    data.loc[:, "q_overall"] = -1
    del data["q_speed"]
    again = workbook.open_stage("04_analysis", study_path=str(small_study)).kept_responses
    pd.testing.assert_series_equal(again["q_overall"], original)
    assert "q_speed" in again


def test_data_cache_sees_a_changed_file_and_does_not_keep_errors(small_study, cache_on):
    path = small_study.parent / "answers.csv"
    before = workbook.open_stage("04_analysis", study_path=str(small_study)).all_responses
    df = pd.read_csv(path)
    df.loc[0, "q_overall"] = 10 if df.loc[0, "q_overall"] != 10 else 9
    df.to_csv(path, index=False)
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10_000_000))
    after = workbook.open_stage("04_analysis", study_path=str(small_study)).all_responses
    assert after["q_overall"].iloc[0] == df.loc[0, "q_overall"] != before["q_overall"].iloc[0]
    path.write_text("rid,shop\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(CsmError):
            _ = workbook.open_stage("04_analysis", study_path=str(small_study)).all_responses


def test_data_cache_sees_a_link_moved_to_another_file_of_the_same_size_and_time(small_study, cache_on):
    # the fingerprint stats each file as named (links followed), with its device and inode
    folder = small_study.parent
    answers = folder / "answers.csv"
    df = pd.read_csv(answers)
    changed = df.copy()
    changed.loc[0, "q_overall"] = 4 if df.loc[0, "q_overall"] != 4 else 3  # one digit for another
    df.to_csv(folder / "a.csv", index=False)
    changed.to_csv(folder / "b.csv", index=False)
    assert (folder / "a.csv").stat().st_size == (folder / "b.csv").stat().st_size
    stamp = time.time_ns()
    for name in ("a.csv", "b.csv"):
        os.utime(folder / name, ns=(stamp, stamp))
    answers.unlink()
    answers.symlink_to("a.csv")
    before = workbook.open_stage("04_analysis", study_path=str(small_study)).all_responses
    answers.unlink()
    answers.symlink_to("b.csv")
    after = workbook.open_stage("04_analysis", study_path=str(small_study)).all_responses
    assert after["q_overall"].iloc[0] == changed.loc[0, "q_overall"] != before["q_overall"].iloc[0]


def test_load_study_parses_an_edited_file_again_and_hands_out_copies(small_study):
    first = load_study(small_study)
    first.scales["default"] = (0, 100)  # a caller changing a nested value changes its own copy
    assert load_study(small_study).scales == load_study(small_study).scales != first.scales
    text = small_study.read_text(encoding="utf-8")
    assert "min_cell_size: 5\n" in text
    stamp = small_study.stat().st_mtime_ns
    small_study.write_text(text.replace("min_cell_size: 5\n", "min_cell_size: 7\n"), encoding="utf-8")
    os.utime(small_study, ns=(stamp, stamp))  # same size and time: the text decides
    assert load_study(small_study).min_cell_size == 7
    small_study.write_text(text.replace("min_cell_size: 5\n", "min_cell_size: [\n"), encoding="utf-8")
    for _ in range(2):  # an error is never remembered
        with pytest.raises(CsmError, match="study.yaml"):
            load_study(small_study)


def test_a_kernels_segments_share_the_suppression_of_their_column(small_study):
    # which values of a segment column are hidden on a base does not depend on the segment
    # asking: with the data cache on it is worked out once per kernel, and must equal the
    # answer each segment gets on its own (cache off)
    answers = small_study.parent / "answers.csv"
    df = pd.read_csv(answers)
    df.loc[:2, "shop"] = "Tai Po"  # 3 respondents: hidden, and so is the next smallest shop
    df.to_csv(answers, index=False)
    segments = ["all"] + [f"shop={v}" for v in sorted(df["shop"].unique())]
    columns = [["q_overall"], ["q_speed"], ["q_overall", "q_speed"]]

    def withheld(segment: str) -> list[bool]:
        ctx = workbook.open_stage("04_analysis", study_path=str(small_study), segment=segment)
        return [ctx.withheld(c, how=how) for c in columns for how in ("all", "any")]

    reference = {s: withheld(s) for s in segments}
    assert any(reference["shop=Tai Po"]) and not any(reference["shop=Kowloon"])
    data_cache.enable_data_cache()
    try:
        assert {s: withheld(s) for s in segments[:3]} == {s: reference[s] for s in segments[:3]}
        misses = data_cache.data_cache_stats()["misses"]
        assert {s: withheld(s) for s in segments[3:]} == {s: reference[s] for s in segments[3:]}
        assert data_cache.data_cache_stats()["misses"] == misses  # nothing computed again
    finally:
        data_cache.disable_data_cache()


def test_the_complaint_summary_is_shared_by_a_segments_stages_as_copies(sample_study):
    def summary(segment: str) -> tuple[dict, bool]:
        return workbook.open_stage("05_action_progress", study_path=str(sample_study), segment=segment).complaint_summary

    reference = summary("region=Hanoi")
    data_cache.enable_data_cache()
    try:
        first, segmented = summary("region=Hanoi")
        first["pareto"].loc[:, "count"] = -1  # a notebook changing its copy
        first["n_complaints"] = -1
        again, _ = summary("region=Hanoi")
        assert data_cache.data_cache_stats()["hits"] >= 1
    finally:
        data_cache.disable_data_cache()
    assert segmented is reference[1] is True
    assert again["n_complaints"] == reference[0]["n_complaints"] > 0
    pd.testing.assert_frame_equal(again["pareto"], reference[0]["pareto"])


def test_data_cache_is_off_by_default(small_study):
    assert data_cache.data_cache_stats()["enabled"] is False
    _ = workbook.open_stage("04_analysis", study_path=str(small_study)).all_responses
    assert data_cache.data_cache_stats()["entries"] == 0


@pytest.mark.slow
def test_benchmark_runs_on_a_small_batch(tmp_path):
    # the script's machinery (three contenders, meters, ratios) on the lightest stage: the figures
    # themselves are the benchmark's business, not the suite's
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "batch.py"), "--segments", "2", "--n", "200",
                           "--stages", "01"], capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for label in ("A  papermill CLI + nbconvert CLI", "B  floor", "C  csm batch", "A/C", "C/B", "peak RSS"):
        assert label in proc.stdout, label


def test_segment_tables_are_shared_by_the_stages_of_one_segment_only(small_study):
    def tables(segment: str) -> pd.DataFrame:
        # the headline KPIs: cached per segment like the priority list (which a 60-respondent study
        # does not have per shop: its key drivers need 30 respondents per shop)
        return workbook.open_stage("05_action_progress", study_path=str(small_study), segment=segment).kpi_table

    reference = {s: tables(s) for s in ("shop=Kowloon", "shop=Shatin")}  # cache off: computed afresh
    data_cache.enable_data_cache()
    try:
        first = tables("shop=Kowloon")
        first.loc[:, "value"] = -1.0  # a notebook changing its copy
        other = tables("shop=Shatin")
        again = tables("shop=Kowloon")
        misses = data_cache.data_cache_stats()["misses"]
        again_twice = tables("shop=Kowloon")
        assert data_cache.data_cache_stats()["misses"] == misses  # the same segment again: all from the cache
    finally:
        data_cache.disable_data_cache()
    pd.testing.assert_frame_equal(other, reference["shop=Shatin"])
    pd.testing.assert_frame_equal(again, reference["shop=Kowloon"])
    pd.testing.assert_frame_equal(again_twice, reference["shop=Kowloon"])
    assert not reference["shop=Kowloon"].equals(reference["shop=Shatin"])


def test_csm_run_of_a_failed_segment_clears_it_in_the_index(tmp_path, monkeypatch):
    from csm_helpers.pipeline import index, plan, run
    from csm_helpers.study import stages

    study = study_with_shops(tmp_path / "s", {"Kowloon": 30, "Shatin": 20})
    out = tmp_path / "out"
    out.mkdir()
    (out / "batch.json").write_text(json.dumps({"by": "shop", "min_cell_size": 5, "segments": [
        {"segment": "shop=Shatin", "dir": "shop=Shatin", "n": 20, "status": "failed", "error": "boom"}],
        "suppressed": []}), encoding="utf-8")
    assert "failed: boom" in (index.write_index(out, title="t")).read_text(encoding="utf-8")
    for module in (plan, run, stages):  # (the stages are checked before the kernels start, in pool)
        monkeypatch.setattr(module, "notebooks_dir", lambda: probe_notebooks(tmp_path / "nbs"))
    run.run_study(study, out, segment="shop=Shatin", stages=["09"])
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "boom" not in index and 'href="shop=Shatin/09_probe.html"' in index
    assert json.loads((out / "batch.json").read_text(encoding="utf-8"))["segments"][0]["status"] == "done"


def test_the_kernels_start_while_the_batch_is_planned_and_stop_when_it_cannot_run(tmp_path):
    """With threads, the kernels start right after study.yaml and --out are checked, while the
    study is validated (not with --resume); a batch that then cannot run (a column the data
    lacks) leaves no kernel behind, and a bad study.yaml starts none."""
    import threading

    from csm_helpers.pipeline import batch as batch_module

    def kernels() -> set[int]:
        return {p.pid for p in psutil.Process().children(recursive=True)
                if "ipykernel_launcher" in " ".join(p.cmdline())}

    before = kernels()
    seen: list[set[int]] = []
    real_plan = batch_module.plan_batch

    def plan(*args, **kwargs):  # the kernels' processes exist by the time planning starts
        seen.append(kernels() - before)
        return real_plan(*args, **kwargs)

    batch_module.plan_batch = plan
    try:
        with pytest.raises(CsmError, match="no_such_column"):
            run_batch(None, "no_such_column", out_dir=tmp_path / "out", jobs=2, progress="off")
    finally:
        batch_module.plan_batch = real_plan
    assert len(seen) == 1 and len(seen[0]) == 2
    batch_module.plan_batch = plan
    try:  # with --resume there may be nothing to do: no kernel starts before the plan says so
        with pytest.raises(CsmError, match="no_such_column"):
            run_batch(None, "no_such_column", out_dir=tmp_path / "out", jobs=2, progress="off", resume=True)
    finally:
        batch_module.plan_batch = real_plan
    assert len(seen) == 2 and seen[1] == set()
    assert psutil.wait_procs([psutil.Process(p) for p in seen[0] if psutil.pid_exists(p)], timeout=20)[1] == []
    assert not any(t.name.startswith("csm-batch") for t in threading.enumerate())
    bad = tmp_path / "bad.yaml"
    bad.write_text("study: [", encoding="utf-8")
    with pytest.raises(CsmError):
        run_batch(bad, "region", out_dir=tmp_path / "out2", jobs=2, progress="off")
    assert kernels() - before == set()


def test_batch_kernels_take_the_validated_survey_data_from_the_batch(small_study, tmp_path):
    """The batch reads and checks the survey export once; each thread's kernel gets that table
    (a snapshot in a private folder, removed at the end) instead of reading the file again."""
    folder = tmp_path / "nbs"
    shutil.copytree(notebooks_dir(), folder, ignore=shutil.ignore_patterns(".*"))
    nb_path = folder / "05_action_progress.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    probe = nbformat.v4.new_code_cell(
        "import json as _j, pathlib as _p\n"
        "from csm_helpers.workbook.cache import data_cache_stats as _s\n"
        "_p.Path(output_dir, 'cache.json').write_text(_j.dumps(_s()))")
    first = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(first + 1, probe)
    nbformat.write(nb, nb_path)
    out = tmp_path / "out"
    result = run_batch(small_study, "shop", out_dir=out, stages=["05"], notebooks=folder, jobs=1, progress="off")
    assert not result.failed, result.failed
    stats = json.loads((out / "all" / "cache.json").read_text(encoding="utf-8"))
    assert stats["enabled"] and stats["loaded"] == 1  # the responses, from the batch's own reading
    assert not list(out.glob(".csm-staging-*"))
