"""Shared fixtures: a second, small study written from scratch by the tests.

It shares nothing with the bundled sample — other column names, 1–7 attribute and 1–10
overall scales, three attributes, no importance or expectation items, no recommend item,
no waves, no weights or population, other interview ids and groups, Vietnamese and Chinese
text, Kano answers in words, a consent column in Vietnamese — so a test that passes on both proves nothing is hard-wired to the sample.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")

ROOT = Path(__file__).resolve().parents[1]


def write_small_study(folder: Path, *, n: int = 60, seed: int = 7) -> Path:
    """Write a minimal but complete study into ``folder``; return its study.yaml."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    shops = rng.choice(["Kowloon", "Shatin", "Tsuen Wan"], size=n, p=[0.5, 0.3, 0.2])
    quality = rng.integers(1, 8, size=n)
    speed = rng.integers(1, 8, size=n)
    friendly = rng.integers(1, 8, size=n)
    # overall satisfaction on a 1-10 scale, the attributes on 1-7: nothing may assume 1-5
    latent = (0.6 * quality + 0.3 * speed + 0.1 * friendly) * 10 / 7
    overall = np.clip(np.round(latent + rng.normal(0, 1.0, n)), 1, 10).astype(int)
    df = pd.DataFrame({
        "rid": [f"x{i:03d}" for i in range(n)],
        "shop": shops,
        "q_quality": quality,
        "q_speed": speed,
        "q_friendly": friendly,
        "q_overall": overall,
        "full_name": [f"Person {i}" for i in range(n)],
        "remarks": rng.choice(["", "Quick service", "Nhân viên thân thiện", "质量很好",
                               "<b>slow</b> checkout"], size=n),
    })
    # Kano pairs answered in words (other codes than the sample's numbers), drawn last so that the
    # columns above do not depend on them
    words = np.array(["I like it", "I expect it", "I am neutral", "I can tolerate it", "I dislike it"])
    for col, p in (("k_speed_f", [0.6, 0.2, 0.1, 0.05, 0.05]), ("k_speed_d", [0.05, 0.05, 0.1, 0.2, 0.6]),
                   ("k_card_f", [0.5, 0.05, 0.35, 0.05, 0.05]), ("k_card_d", [0.05, 0.1, 0.6, 0.2, 0.05])):
        df[col] = rng.choice(words, size=n, p=p)
    df["goi_lai"] = rng.choice(["có", "Không", ""], size=n, p=[0.5, 0.4, 0.1])  # consent, in Vietnamese
    df.to_csv(folder / "answers.csv", index=False)
    (folder / "talks.csv").write_text(textwrap.dedent("""\
        tid,who,notes,seq
        T1,customer,"The quality of the bread is what matters <script>alert(1)</script><img src=x onerror=alert(2)>, and speed at the till.",1
        T2,executive,"We believe our prices and product quality win customers.",2
        T3,customer,"Nhân viên thân thiện và phục vụ nhanh.",3
        T4,employee,"Customers complain about waiting; staff friendliness is fine.",4
        T5,lost_customer,"排队太久了，服务很慢。",5
        T6,customer,"Good quality, friendly staff.",6
        T7,competitor_customer,"The other bakery is faster.",7
        T8,customer,"Quality and speed, nothing else.",8
        """), encoding="utf-8")
    (folder / "codes.yaml").write_text(textwrap.dedent("""\
        attributes:
          - {id: quality, label: Product quality, dimension: product, keywords: [quality, chất lượng, 质量]}
          - {id: speed, label: Speed of service, dimension: process,
             keywords: [speed, quick, faster, waiting, nhanh, 慢, 排队]}
          - {id: friendly, label: Friendly staff, dimension: people,
             keywords: [friendly, friendliness, thân thiện, 友好]}
          - {id: price, label: Prices, dimension: product, keywords: [price, prices, giá, 价格]}
        """), encoding="utf-8")
    (folder / "aims.yaml").write_text(textwrap.dedent("""\
        charter:
          objectives: [Know why customers come back]
          owners: [Shop managers]
        kpi_targets:
          - {metric: csat_top2, target: 0.7, deadline: 2027-06-30, owner: Owner}
        readiness:
          - {step: 1, status: done, owner: Owner}
          - {step: 9, status: in_progress, owner: Board}
        self_assessment:
          preset: custom
          items:
            - {id: listen, label: Listening to customers, points: 60, score: 40}
            - {id: act, label: Acting on feedback, points: 40, score: 70}
        """), encoding="utf-8")
    (folder / "study.yaml").write_text(textwrap.dedent("""\
        name: Bakery pulse
        language: en
        min_cell_size: 5
        seed: 11
        responses:
          file: answers.csv
          id: rid
          segments: [shop]
          personal_data: [full_name]
          comments: remarks
        scales: {default: [1, 7], q_overall: [1, 10]}
        overall: q_overall
        attributes:
          - {id: quality, label: Product quality, dimension: product, performance: q_quality}
          - {id: speed, label: Speed of service, dimension: process, performance: q_speed}
          - {id: friendly, label: Friendly staff, dimension: people, performance: q_friendly}
        interviews: {file: talks.csv, id: tid, group: who, text: notes, order: seq, codes: null}
        codebook: codes.yaml
        goals: aims.yaml
        discovery: {saturation_k: 2, questionnaire_scale: [1, 7]}
        follow_up: {consent: goi_lai}
        kano:
          answers: {I like it: like, I expect it: must_be, I am neutral: neutral, I can tolerate it: live_with,
                    I dislike it: dislike}
          pairs:
            - {id: speed, functional: k_speed_f, dysfunctional: k_speed_d}
            - {id: loyalty_card, label: Loyalty card, functional: k_card_f, dysfunctional: k_card_d}
        """), encoding="utf-8")
    return folder / "study.yaml"


@pytest.fixture
def small_study(tmp_path: Path) -> Path:
    """Path of a freshly written small study.yaml (see :func:`write_small_study`)."""
    return write_small_study(tmp_path / "bakery")


@pytest.fixture
def sample_study() -> Path:
    return ROOT / "data" / "sample" / "study.yaml"


def lose_a_ctrl_c() -> None:
    """Deliver a Ctrl-C where Python cannot raise it: csm's SIGINT handler (which must be in
    place, in the main thread) called inside a weakref callback. Python prints the
    KeyboardInterrupt raised there ("Exception ignored in ...") and goes on, as with a real
    signal that lands while such a callback runs."""
    import signal
    import weakref

    class Thing:
        pass

    handler = signal.getsignal(signal.SIGINT)
    assert callable(handler), handler
    thing = Thing()
    keep = weakref.ref(thing, lambda _ref: handler(signal.SIGINT, None))
    del thing  # the callback runs here; its KeyboardInterrupt cannot leave it
    assert keep() is None


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``csm`` in a fresh process, as a user would (exit code, stdout, stderr); ``env`` is
    added to this process's environment."""
    env = {**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "csm_helpers.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=900)


@contextlib.contextmanager
def _shared_dir(tmp_path_factory, name: str):
    """A folder made once per test run, also across pytest-xdist workers.

    Yields ``(folder, ready)``; when ``ready`` is False the caller builds the folder inside the
    ``with`` block (other workers wait on the lock) and it is marked ready on a clean exit.
    """
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # shared by the workers of this run
    folder, done = base / name, base / f"{name}.ready"
    with open(base / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            ready = done.exists()
            if not ready:
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir()
            yield folder, ready
            done.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory):
    """`csm run` on the bundled sample once for the whole test run, in its own process.

    Returns the output folder and the finished process (its stdout and stderr). BLAS may use
    every core here (``test_determinism`` compares with a one-thread run).
    """
    with _shared_dir(tmp_path_factory, "sample_reports") as (base, ready):
        out = base / "out"
        if not ready:
            threads = str(max(2, os.cpu_count() or 1))
            proc = run_cli("run", "--out", str(out), env={"OPENBLAS_NUM_THREADS": threads, "OMP_NUM_THREADS": threads})
            assert proc.returncode == 0, proc.stderr
            (base / "stdout.txt").write_text(proc.stdout, encoding="utf-8")
            (base / "stderr.txt").write_text(proc.stderr, encoding="utf-8")
    proc = subprocess.CompletedProcess(["csm", "run"], 0, (base / "stdout.txt").read_text(encoding="utf-8"),
                                       (base / "stderr.txt").read_text(encoding="utf-8"))
    return out, proc


@pytest.fixture(autouse=True)
def _english_after_each_test():
    """A test that opens a Vietnamese or Chinese study must not change the next test's language."""
    from csm_helpers.core.i18n import set_language

    yield
    set_language("en")


@pytest.fixture(scope="session")
def translated_reports(tmp_path_factory):
    """The sample study run end to end in Chinese and in Vietnamese (language -> (out, missing)).

    ``missing`` records every text that reached a report without a translation
    (``CSM_I18N_MISSING``); set ``CSM_I18N_OUT`` to keep the reports (e.g. for screenshots).
    """
    from csm_helpers.study.datasets import sample_dir

    runs = {}
    with _shared_dir(tmp_path_factory, "translated_runs") as (base, ready):
        for lang in ("zh", "vi"):
            folder = base / f"run-{lang}"
            missing = folder / "missing.jsonl"
            out = Path(os.environ.get("CSM_I18N_OUT", folder)) / f"reports-{lang}"
            runs[lang] = (out, missing)
            if ready:
                continue
            study = folder / "study"
            shutil.copytree(sample_dir(), study)
            yaml_path = study / "study.yaml"
            yaml_path.write_text(yaml_path.read_text(encoding="utf-8").replace("language: en", f"language: {lang}"),
                                 encoding="utf-8")
            env = {**os.environ, "CSM_I18N_MISSING": str(missing)}
            proc = subprocess.run([sys.executable, "-m", "csm_helpers.cli", "run", "--study", str(yaml_path),
                                   "--out", str(out)], capture_output=True, text=True, env=env, timeout=900)
            assert proc.returncode == 0, proc.stderr
    return runs
