"""Determinism and provenance (issue 6, SPEC §3-§4).

The bundled sample run twice with the same seed gives a byte-identical ``metrics.json`` (and
CSV exports, and index page) and reports identical apart from the generation time; every
report states the data's SHA-256, the project version and the parameters. Two runs that
differ only by the seed give different bootstrap intervals (the seed is used) and the same
point estimates.
"""

from __future__ import annotations

import hashlib
import json
import os
import re

import pytest
import yaml

from csm_helpers import __version__
from csm_helpers.cli import main
from csm_helpers.study.stages import STAGE_TITLES

from .conftest import ROOT, run_cli
from .corpus_tools import build_base

TIME = re.compile(r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\b")


@pytest.fixture(scope="module")
def second_sample_run(tmp_path_factory):
    """The sample again, run from this process (``sample_run`` is a separate process), with the
    notebooks' BLAS told to use one thread (``sample_run``'s may use several)."""
    out = tmp_path_factory.mktemp("sample_again")
    saved = {k: os.environ.get(k) for k in _BLAS_THREADS}
    os.environ.update(dict.fromkeys(_BLAS_THREADS, "1"))
    try:
        assert main(["run", "--out", str(out), "--quiet"]) == 0
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return out


_BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@pytest.mark.slow
def test_same_inputs_and_seed_give_identical_outputs(sample_run, second_sample_run):
    """Also across BLAS thread counts: the notebooks run BLAS on one thread (a product split
    between threads adds in another order, and a bootstrap interval changed in the 16th digit)."""
    first, _ = sample_run
    second = second_sample_run
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert len([f for f in files if f.suffix == ".html"]) == len(STAGE_TITLES) + 1
    for rel in files:
        a, b = (first / rel).read_bytes(), (second / rel).read_bytes()
        if rel.name == ".csm-manifest.json":  # what --resume compares: the same inputs and parameters
            ma, mb = json.loads(a), json.loads(b)
            assert ma["key"] == mb["key"] and ma["files"].keys() == mb["files"].keys()
            # the output hashes agree except for the reports, which state their generation time
            assert {k: v for k, v in ma["files"].items() if not k.endswith(".html")} == \
                   {k: v for k, v in mb["files"].items() if not k.endswith(".html")}
            continue
        if rel.suffix != ".html":
            assert a == b, f"{rel} differs between two runs"  # metrics.json, CSV exports
            continue
        ta, tb = a.decode(), b.decode()
        if rel.name != "index.html":
            # the generation time is stated twice: in the title block and in the footer
            assert len(TIME.findall(ta)) == 2 and len(TIME.findall(tb)) == 2, rel
        assert TIME.sub("<time>", ta) == TIME.sub("<time>", tb), f"{rel} differs beyond the generation time"


@pytest.mark.slow
def test_every_report_states_data_hash_version_and_parameters(sample_run):
    out, _ = sample_run
    sample = ROOT / "data" / "sample"
    study = yaml.safe_load((sample / "study.yaml").read_text(encoding="utf-8"))
    data_sha = hashlib.sha256((sample / study["responses"]["file"]).read_bytes()).hexdigest()
    metrics = json.loads((out / "all" / "metrics.json").read_text(encoding="utf-8"))
    made = metrics["generated_with"]
    assert made["version"] == __version__ and made["data_sha256"] == data_sha
    assert made["parameters"]["seed"] == study["seed"]
    assert made["parameters"]["min_cell_size"] == study["min_cell_size"]
    for name, digest in made["inputs"].items():
        assert hashlib.sha256((sample / name).read_bytes()).hexdigest() == digest, name
    for page in sorted((out / "all").glob("*.html")):
        body = page.read_text(encoding="utf-8")
        footer = body.split('<footer class="csm-footer">', 1)[1]
        assert f"csm-workbook {__version__}" in footer and f"sha256 {data_sha[:12]}" in footer, page.name
        assert f"seed {study['seed']}" in footer, page.name
        assert data_sha in body, page.name  # the input-files table of the methods appendix
        params = body.split("<caption>Parameters</caption>", 1)[1].split("</table>", 1)[0]
        for label, value in (("seed", study["seed"]), ("minimum cell size", study["min_cell_size"]),
                             ("segment", "all")):
            assert re.search(rf"<td>{label}</td><td>{value}</td>", params), (page.name, label)


@pytest.mark.slow
def test_the_seed_drives_the_bootstrap(tmp_path):
    results = {}
    for seed in (11, 12):
        study = build_base(tmp_path / f"seed{seed}")
        config = yaml.safe_load(study.read_text(encoding="utf-8"))
        config["seed"] = seed
        study.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
        out = tmp_path / f"out{seed}"
        proc = run_cli("run", "--study", str(study), "--out", str(out), "--stages", "04", "--quiet")
        assert proc.returncode == 0, proc.stderr[-2000:]
        results[seed] = json.loads((out / "all" / "metrics.json").read_text(encoding="utf-8"))
    a, b = ({d["attribute"]: d for d in results[s]["drivers"]} for s in (11, 12))
    assert a.keys() == b.keys()
    for attr in a:
        assert a[attr]["relative_weight"] == b[attr]["relative_weight"]  # the estimate does not move
    # the bootstrap intervals do (ties at a boundary are possible, so not every one must)
    moved = [attr for attr in a if (a[attr]["rw_ci_low"], a[attr]["rw_ci_high"])
             != (b[attr]["rw_ci_low"], b[attr]["rw_ci_high"])]
    assert len(moved) >= 2, moved
    assert results[11]["generated_with"]["parameters"]["seed"] == 11
    assert results[12]["generated_with"]["parameters"]["seed"] == 12
