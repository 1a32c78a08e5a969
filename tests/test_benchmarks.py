"""The scale benchmark (benchmarks/scale.py): its generated study is valid and has the planted
issues, and the script runs the whole analysis end to end (timings are not tested)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from csm_helpers.analysis.measurement import quality_flags
from csm_helpers.study.config import load_codebook, load_study
from csm_helpers.study.readers import load_responses

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "scale.py"


@pytest.fixture(scope="module")
def scale():
    spec = importlib.util.spec_from_file_location("csm_scale_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated(scale, tmp_path_factory):
    path = scale.generate_study(tmp_path_factory.mktemp("scale") / "study", n=4000, seed=11)
    study = load_study(path)
    return study, load_responses(study).data


def test_generated_study_is_valid_with_20_attributes(generated):
    study, data = generated
    assert len(study.attributes) == 20 and len(data) == 4000
    assert {a.dimension for a in study.attributes} == {"product", "process", "people"}
    assert all(a.importance and a.expectation for a in study.attributes)
    assert sum(a.competitor is not None for a in study.attributes) == 12
    assert sorted(data["wave"].unique()) == ["2025-H2", "2026-H1"]
    codebook = load_codebook(study)
    assert {a.id for a in study.attributes} <= {e.id for e in codebook.attributes}
    for col in [a.performance for a in study.attributes] + ["overall_sat", "recommend"]:
        lo, hi = study.scale_for(col)
        values = data[col].dropna()
        assert values.between(lo, hi).all() and (values == values.round()).all(), col


def test_generated_study_has_the_planted_quality_issues(generated):
    study, data = generated
    flags = quality_flags(data, study)
    assert flags["duplicate_answers"].sum() == 20  # the 20 copied answer rows
    assert not flags["duplicate_id"].any()
    assert 0.02 < flags["speeder"].mean() < 0.04
    assert 0.001 < flags["straightliner"].mean() < 0.01
    share = data["comment"].notna().mean()
    assert 0.03 < share < 0.07
    # comments are (almost) all different, as real ones are
    assert data["comment"].dropna().nunique() > 0.95 * data["comment"].notna().sum()


def test_generated_study_follows_its_seed(scale, tmp_path):
    a = scale.generate_study(tmp_path / "a", n=1500, seed=3)
    b = scale.generate_study(tmp_path / "b", n=1500, seed=3)
    c = scale.generate_study(tmp_path / "c", n=1500, seed=4)
    da, db, dc = (load_responses(load_study(p)).data for p in (a, b, c))
    assert da.equals(db)
    assert not np.array_equal(da["overall_sat"].to_numpy(), dc["overall_sat"].to_numpy())
    with pytest.raises(ValueError, match="at least 1,000"):
        scale.generate_study(tmp_path / "d", n=999, seed=1)


@pytest.mark.slow
def test_script_runs_the_whole_analysis(tmp_path):
    out = subprocess.run([sys.executable, str(SCRIPT), "--n", "20000", "--keep", str(tmp_path)],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    text = out.stdout
    assert "Traceback" not in out.stderr
    for step in ("load + validate responses", "quality flags", "exclusions + raking weights", "03 Reliability",
                 "04 Headline KPIs", "04 Key drivers of overall satisfaction", "04 What customers wrote",
                 "05 Progress over the waves", "report summary", "TOTAL analysis", "PEAK RSS"):
        assert step in text, step
    charts = int(text.split("charts rendered: ")[1].split()[0])
    assert charts >= 20
    # stage 05 wrote the action register beside the (virtual) report
    assert (tmp_path / "out" / "05_action_register.csv").is_file()


def test_script_rejects_a_tiny_n():
    out = subprocess.run([sys.executable, str(SCRIPT), "--n", "10"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "--n must be at least" in out.stderr
