"""Every stage notebook runs top to bottom with papermill: with its defaults (the sample
study, as in JupyterLab) and with a second study, and writes no file when output_dir is empty."""

from __future__ import annotations

import papermill
import pytest

from csm_helpers.pipeline.kernels import WarmKernel
from csm_helpers.study.stages import notebooks_dir, stage_names

STAGES = stage_names()


def _outputs_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                parts.append(f"ERROR {out['ename']}: {out['evalue']}")
            parts.extend(str(v) for k, v in out.get("data", {}).items() if k.startswith("text/"))
            parts.append(str(out.get("text", "")))
    return "\n".join(parts)


@pytest.mark.parametrize("stage", STAGES)
def test_notebook_runs_with_defaults(stage, tmp_path):
    before = sorted(p.name for p in notebooks_dir().iterdir())
    nb = papermill.execute_notebook(str(notebooks_dir() / f"{stage}.ipynb"), str(tmp_path / "out.ipynb"),
                                    kernel_name="python3", progress_bar=False, cwd=str(notebooks_dir()))
    text = _outputs_text(nb)
    assert "ERROR" not in text
    expected = {"01_goal_setting": "Goal-setting steps", "02_discovery": "Perception gap"}
    assert expected.get(stage, "") in text
    assert sorted(p.name for p in notebooks_dir().iterdir()) == before  # output_dir "" writes nothing
    images = sum(bool({"image/png", "image/svg+xml"} & set(o.get("data", {}))) for c in nb.cells for o in c.get("outputs", []))
    assert images >= 2


@pytest.fixture(scope="module")
def warm_kernel():
    """One warm kernel for the second study's notebooks (as ``csm batch`` runs them: reset
    between notebooks); the defaults above each get a new kernel, as in JupyterLab. (With
    IPython's history database on, the second notebook's output said "ERROR! Session/line
    number was not unique in database": a reset kernel numbers its cells from 1 again.)"""
    with WarmKernel(cwd=notebooks_dir()) as kernel:
        yield kernel


@pytest.mark.parametrize("stage", STAGES)
def test_notebook_runs_on_second_study(stage, small_study, tmp_path, warm_kernel):
    out_dir = tmp_path / "files"
    nb = warm_kernel.execute_notebook(
        notebooks_dir() / f"{stage}.ipynb", tmp_path / "out.ipynb",
        {"study_path": str(small_study), "segment": "shop=Shatin", "output_dir": str(out_dir)})
    assert "ERROR" not in _outputs_text(nb)
    assert (out_dir / "_stage_metrics" / f"{stage}.json").is_file()
