"""Paths and options that gave a traceback or the wrong exit code (issue 17, parts 2 and 5).

The inputs a committed corpus cannot hold — a symbolic link to itself, a named pipe, an output
folder below a file or on a read-only file system — are made here at run time. Each must end
with exit 1 (2 for a usage error) and one ``csm: error:`` line naming the option or config key,
the path and the fix; nothing is created. Where the input is in the study (a data file),
``csm validate`` must say exactly what ``csm run`` says.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from csm_helpers.cli import main
from csm_helpers.core.errors import CsmError
from csm_helpers.core.paths import check_output_folder, resolve_path

from .corpus_tools import build_base, tree_digest
from .test_delivery import make_segment

#: A folder nobody may write in, even root: sysfs refuses new files.
READ_ONLY = Path("/sys/kernel")


def _one_error(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err, err
    assert len(lines) == 1 and lines[0].startswith("csm: error: "), err
    return lines[0]


def _validate_and_run(study: Path, tmp_path: Path, capsys) -> str:
    assert main(["validate", "--study", str(study)]) == 1
    said = _one_error(capsys.readouterr().err)
    out = tmp_path / "reports"
    assert main(["run", "--study", str(study), "--out", str(out), "--quiet"]) == 1
    assert _one_error(capsys.readouterr().err) == said  # validate predicts run, word for word
    assert not out.exists()
    return said


# --------------------------------------------------------------------------- data files
def test_a_data_file_that_is_a_symlink_to_itself(tmp_path, capsys):
    study = build_base(tmp_path / "s")
    (study.parent / "answers.csv").unlink()
    os.symlink("answers.csv", study.parent / "answers.csv")
    said = _validate_and_run(study, tmp_path, capsys)
    assert "key 'responses.file'" in said and "'answers.csv'" in said and "points to itself" in said


def test_a_symlink_loop_of_two_links(tmp_path, capsys):
    study = build_base(tmp_path / "s")
    (study.parent / "answers.csv").unlink()
    os.symlink("other.csv", study.parent / "answers.csv")
    os.symlink("answers.csv", study.parent / "other.csv")
    said = _validate_and_run(study, tmp_path, capsys)
    assert "key 'responses.file'" in said and "points to itself" in said


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX thing")
def test_a_named_pipe_in_place_of_the_csv_is_not_called_a_folder_and_does_not_block(tmp_path, capsys):
    study = build_base(tmp_path / "s")
    (study.parent / "answers.csv").unlink()
    os.mkfifo(study.parent / "answers.csv")  # opening it would wait for a writer for ever
    said = _validate_and_run(study, tmp_path, capsys)
    assert "answers.csv: this is a named pipe, not a data file" in said and "responses.file" in said


def test_a_folder_in_place_of_the_csv(tmp_path, capsys):
    study = build_base(tmp_path / "s")
    (study.parent / "answers.csv").unlink()
    (study.parent / "answers.csv").mkdir()
    assert "answers.csv: this is a folder, not a data file" in _validate_and_run(study, tmp_path, capsys)


def test_resolve_path_names_the_key_and_the_fix():
    base = Path("/tmp")
    for bad, words in (("x" * 256, "256 bytes long"), ("dir/\x00.csv", "NUL character"),
                       ("../elsewhere.csv", "outside the study folder"), ("é" * 130 + ".csv", "264 bytes long")):
        with pytest.raises(CsmError) as info:
            resolve_path(base / "study", bad, where="study.yaml, key 'population'")
        assert str(info.value).startswith("study.yaml, key 'population': ") and words in str(info.value)


# --------------------------------------------------------------------------- output folders
def _out_cases(tmp_path: Path) -> list[tuple[Path, str]]:
    afile = tmp_path / "notes.txt"
    afile.write_text("not a folder", encoding="utf-8")
    cases = [(afile, "this is a file, not a folder"),
             (afile / "reports", f"{afile} is a file, so no folder can be made below it"),
             (afile / "a" / "b", f"{afile} is a file, so no folder can be made below it")]
    if sys.platform == "linux" and READ_ONLY.is_dir():
        cases += [(READ_ONLY, f"cannot write in {READ_ONLY}"), (READ_ONLY / "reports", f"cannot write in {READ_ONLY}")]
    return cases


def test_check_output_folder_creates_nothing_and_names_the_option(tmp_path):
    for path, words in _out_cases(tmp_path):
        before = tree_digest(tmp_path)
        with pytest.raises(CsmError) as info:
            check_output_folder(path, option="--out")
        assert str(info.value).startswith(f"--out {path}: ") and words in str(info.value), info.value
        assert tree_digest(tmp_path) == before
    fresh = tmp_path / "new" / "reports"
    assert check_output_folder(fresh, option="--out") == fresh.resolve() and not (tmp_path / "new").exists()


@pytest.mark.parametrize("command", ["run", "batch"])
def test_run_and_batch_refuse_an_output_folder_they_cannot_write(command, tmp_path, capsys):
    study = build_base(tmp_path / "s")
    extra = ["--by", "shop", "--stages", "04"] if command == "batch" else ["--stages", "01"]
    for path, words in _out_cases(tmp_path):
        assert main([command, "--study", str(study), "--out", str(path), "--quiet", *extra]) == 1
        said = _one_error(capsys.readouterr().err)
        assert said.startswith(f"csm: error: --out {path}: ") and words in said, said


def test_send_dry_run_refuses_a_file_as_its_folder(tmp_path, capsys):
    reports = tmp_path / "reports"
    make_segment(reports, "all")
    for path, words in _out_cases(tmp_path):
        assert main(["send", "--reports", str(reports), "--to", "ceo@bank.vn", "--dry-run", str(path)]) == 1
        said = _one_error(capsys.readouterr().err)
        assert said.startswith(f"csm: error: --dry-run {path}: ") and words in said, said


# --------------------------------------------------------------------------- usage errors exit 2
@pytest.mark.parametrize("stages", ["07", "04,99", "analysis", "1"])
def test_an_unknown_stage_is_a_usage_error(stages, tmp_path, capsys):
    study = build_base(tmp_path / "s")
    out = tmp_path / "reports"
    assert main(["run", "--study", str(study), "--stages", stages, "--out", str(out)]) == 2
    said = _one_error(capsys.readouterr().err)
    assert "--stages: unknown stage" in said and "01_goal_setting" in said and "--stages 03,04" in said
    assert not out.exists()
    assert main(["batch", "--study", str(study), "--by", "shop", "--stages", stages, "--out", str(out)]) == 2
    assert "--stages: unknown stage" in _one_error(capsys.readouterr().err)
    shutil.rmtree(out, ignore_errors=True)


def test_an_unknown_stage_is_refused_before_any_kernel_starts(tmp_path, monkeypatch):
    """A mistyped --stages is known from study.yaml and the notebooks' names alone: no kernel
    starts and the data is not read (it took 3.6 s)."""
    from csm_helpers.pipeline import kernels, plan

    done = []
    real_init, real_validate = kernels.WarmKernel.__init__, plan.validate_study

    def kernel(self, *a, **k):
        done.append("kernel")
        real_init(self, *a, **k)

    def validate(*a, **k):
        done.append("validated")
        return real_validate(*a, **k)

    monkeypatch.setattr(kernels.WarmKernel, "__init__", kernel)
    monkeypatch.setattr(plan, "validate_study", validate)
    study = build_base(tmp_path / "s")
    for command in (["run"], ["batch", "--by", "shop"]):
        assert main([*command, "--study", str(study), "--stages", "07", "--out", str(tmp_path / "r")]) == 2
        assert done == [], command


# --------------------------------------------------------------------------- --study and --lists
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX thing")
def test_study_and_lists_paths_that_cannot_be_read_get_one_line(tmp_path, capsys):
    loop = tmp_path / "loop.yaml"
    os.symlink("loop.yaml", loop)
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)  # reading it would wait for a writer for ever
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    long = tmp_path / ("s" * 300 + ".yaml")
    for study, words in ((loop, "points to itself"), (fifo, "this is a named pipe, not a study configuration"),
                         (empty, "the file is empty"), (long, "305 bytes long")):
        assert main(["validate", "--study", str(study)]) == 1
        said = _one_error(capsys.readouterr().err)
        assert words in said, said
    reports = tmp_path / "reports"
    make_segment(reports, "all")
    for lists, words in ((fifo, "this is a named pipe, not a distribution-list file"), (loop, "points to itself"),
                         (tmp_path, "this is a folder")):
        assert main(["send", "--reports", str(reports), "--lists", str(lists), "--dry-run", str(tmp_path / "o")]) == 1
        said = _one_error(capsys.readouterr().err)
        assert words in said and "--lists" in said, said


# --------------------------------------------------------------------------- every path option
PATH_OPTIONS = [
    ("--study", ["validate", "--study", "{p}"]),
    ("--notebooks", ["run", "--study", "{study}", "--notebooks", "{p}", "--out", "{tmp}/o"]),
    ("--notebooks", ["batch", "--study", "{study}", "--by", "shop", "--notebooks", "{p}", "--out", "{tmp}/o"]),
    ("--reports", ["send", "--reports", "{p}", "--to", "a@b.vn", "--dry-run", "{tmp}/o"]),
    ("--out", ["sample", "--out", "{p}"]),
    ("DIR", ["init", "{p}"]),
    ("--from", ["init", "{tmp}/new", "--from", "{p}"]),
]


@pytest.mark.parametrize(("option", "argv"), PATH_OPTIONS, ids=[" ".join(a[:1] + [o]) for o, a in PATH_OPTIONS])
def test_every_path_option_refuses_an_impossible_name_and_a_symlink_loop(option, argv, tmp_path, capsys):
    study = build_base(tmp_path / "s")
    loop = tmp_path / "loop"
    os.symlink("loop", loop)
    for path, words in ((tmp_path / ("c" * 300), "300 bytes long"), (loop, "points to itself")):
        args = [a.format(p=path, study=study, tmp=tmp_path) for a in argv]
        assert main(args) == 1, args
        said = _one_error(capsys.readouterr().err)
        assert said.startswith(f"csm: error: {option}") and words in said, said
    assert not (tmp_path / "o").exists() and not (tmp_path / "new").exists()
