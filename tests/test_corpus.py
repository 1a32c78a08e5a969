"""The corpus of broken inputs (tests/corpus/, issue 6) through ``csm validate`` and ``csm run``.

Every ``outcome: error`` case must give exit status 1 and one clear message — naming the file,
row, column or config key and the fix (the case's ``expect`` words) — with no traceback, and
must leave the output folder exactly as it was (an earlier good report is in it). Cases marked
``subprocess`` also go through a real ``csm`` process, to prove no traceback reaches stderr.
``outcome: ok`` cases are unusual inputs that must be read correctly.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

from csm_helpers.cli import main
from csm_helpers.study.config import load_study
from csm_helpers.study.readers import load_responses

from .conftest import run_cli
from .corpus_tools import CORPUS, build_base, build_case, corpus_cases, tree_digest

CASES = corpus_cases()
ERROR_CASES = [c for c in CASES if c["outcome"] == "error"]
OK_CASES = [c for c in CASES if c["outcome"] == "ok"]


def _make_corpus_module():
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_corpus"] = module  # its dataclass needs the module registered
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def good_reports(tmp_path_factory) -> Path:
    """An output folder holding a complete, good run of the base study (the 'earlier report')."""
    base = build_base(tmp_path_factory.mktemp("base") / "study")
    out = tmp_path_factory.mktemp("good") / "reports"
    assert main(["run", "--study", str(base), "--out", str(out), "--quiet"]) == 0
    assert (out / "all" / "04_analysis.html").is_file() and (out / "index.html").is_file()
    return out


def assert_one_clear_message(err: str, case: dict) -> None:
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines and lines[0].startswith("csm: error: "), err
    assert sum(ln.startswith("csm: error") for ln in lines) == 1, err
    assert sum(ln.startswith("  - ") for ln in lines) <= 1, f"more than one problem reported:\n{err}"
    assert len(err) < 1500, f"message too long ({len(err)} characters)"
    missing = [w for w in case["expect"] if w not in err]
    assert not missing, f"{case['id']}: message lacks {missing}:\n{err}"


# --------------------------------------------------------------------------- the corpus itself
def test_corpus_has_at_least_40_broken_cases_and_stays_small():
    assert len(ERROR_CASES) >= 40
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))
    for case in CASES:
        assert (CORPUS / "cases" / case["id"]).is_dir(), case["id"]
        assert case["broken"] and case["file"]
        if case["outcome"] == "error":
            assert len(case["expect"]) >= 2, case["id"]  # the place and the fix
    size = sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file())
    assert size < 1_000_000, size


def test_committed_corpus_matches_its_script():
    diff = _make_corpus_module().differences(CORPUS)
    assert diff == [], "rerun python tests/corpus/make_corpus.py and commit:\n" + "\n".join(diff)


def test_base_study_is_valid(tmp_path, capsys):
    study = build_base(tmp_path / "study")
    assert main(["validate", "--study", str(study)]) == 0
    out = capsys.readouterr().out
    assert "OK — 60 responses" in out and "warning" not in out


# --------------------------------------------------------------------------- broken inputs
@pytest.mark.parametrize("case", ERROR_CASES, ids=[c["id"] for c in ERROR_CASES])
def test_broken_input_gives_one_clear_message_and_leaves_output_untouched(case, tmp_path, capsys, good_reports):
    study = build_case(case, tmp_path / "study")
    assert main(["validate", "--study", str(study)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert_one_clear_message(captured.err, case)

    out = tmp_path / "reports"
    shutil.copytree(good_reports, out)
    before = tree_digest(out)
    assert main(["run", "--study", str(study), "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert_one_clear_message(captured.err, case)
    assert tree_digest(out) == before

    fresh = tmp_path / "fresh"  # an output folder that does not exist yet is not even created
    assert main(["run", "--study", str(study), "--out", str(fresh), "--quiet"]) == 1
    capsys.readouterr()
    assert not fresh.exists()


SUBPROCESS_CASES = [c for c in ERROR_CASES if c.get("subprocess")]


@pytest.mark.parametrize("case", SUBPROCESS_CASES, ids=[c["id"] for c in SUBPROCESS_CASES])
def test_broken_input_in_a_real_process_has_no_traceback(case, tmp_path):
    study = build_case(case, tmp_path / "study")
    out = tmp_path / "reports"
    (out / "all").mkdir(parents=True)
    (out / "all" / "04_analysis.html").write_text("<p>earlier good report</p>", encoding="utf-8")
    before = tree_digest(out)
    for args in (["validate", "--study", str(study)], ["run", "--study", str(study), "--out", str(out)]):
        proc = run_cli(*args)
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        assert_one_clear_message(proc.stderr, case)
    assert tree_digest(out) == before


def test_subprocess_cases_cover_each_kind_of_failure():
    assert {c["file"].rsplit(".", 1)[-1] for c in SUBPROCESS_CASES} >= {"csv", "xlsx", "yaml"}
    assert len(SUBPROCESS_CASES) >= 5


# --------------------------------------------------------------------------- unusual but valid
@pytest.mark.parametrize("case", OK_CASES, ids=[c["id"] for c in OK_CASES])
def test_unusual_but_valid_input_is_read_correctly(case, tmp_path, capsys):
    study = build_case(case, tmp_path / "study")
    assert main(["validate", "--study", str(study)]) == 0, capsys.readouterr().err
    data = load_responses(load_study(study)).data
    assert len(data) == 60
    for column, text in case["read"].items():
        assert text in set(data[column].dropna().astype(str)), (column, text, data[column].unique()[:10])
