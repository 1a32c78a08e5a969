"""The stage context: segments, waves, weights, exclusions, tables by segment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csm_helpers.analysis.stats import WEIGHT_COLUMN
from csm_helpers.core.errors import CsmError
from csm_helpers.workbook.context import open_stage
from csm_helpers.workbook.segment import select_segment


def test_sample_context_waves_weights_and_exclusions():
    ctx = open_stage("04_analysis")
    assert ctx.waves == ["2025-H2", "2026-H1"]
    assert (ctx.latest_wave, ctx.previous_wave) == ("2026-H1", "2025-H2")
    assert ctx.weights == WEIGHT_COLUMN
    w = ctx.kept_responses[WEIGHT_COLUMN]
    assert np.isclose(w.mean(), 1.0) and (w > 0).all()
    # exclusions applied: planted speeders/straight-liners are gone
    assert len(ctx.kept_responses) < len(ctx.all_responses)
    assert set(ctx.current["wave"].unique()) == {"2026-H1"}
    assert ctx.importance_mode == "stated"
    assert "customer_name" not in ctx.all_responses.columns  # personal data never loaded


def test_segment_context_and_company_tables():
    ctx = open_stage("04_analysis", segment="region=Hanoi")
    assert set(ctx.analysis_data["region"]) == {"Hanoi"}
    complaints, segmented = ctx.segment_table("complaints")
    assert segmented and set(complaints["region"]) == {"Hanoi"}


def test_small_study_has_no_waves_no_weights(small_study):
    ctx = open_stage("04_analysis", study_path=str(small_study))
    assert ctx.waves == [] and ctx.previous_wave is None and ctx.weights is None
    assert len(ctx.current) == len(ctx.analysis_data)
    assert ctx.importance_mode == "derived"  # no importance items


def test_previous_wave_setting_must_exist(tmp_path):
    import shutil

    from csm_helpers.study.datasets import sample_dir

    shutil.copytree(sample_dir(), tmp_path / "s")
    path = tmp_path / "s" / "study.yaml"
    path.write_text(path.read_text() + "\nanalysis: {previous_wave: 1999}\n")
    ctx = open_stage("04_analysis", study_path=str(path))
    with pytest.raises(CsmError, match="analysis.previous_wave '1999' is not a wave in the data"):
        _ = ctx.previous_wave


def test_select_segment_copies_and_validates(small_study):
    ctx = open_stage("01_goal_setting", study_path=str(small_study))
    df = ctx.all_responses
    part = select_segment(df, ctx.study, "shop=Shatin")
    part.loc[:, "q_quality"] = -1
    assert (df["q_quality"] >= 1).all()
    with pytest.raises(CsmError, match="COLUMN=VALUE"):
        select_segment(df, ctx.study, "shop")
    assert isinstance(select_segment(df, ctx.study, "all"), pd.DataFrame)


def test_reconciled_priorities_take_stated_importance_from_the_data_when_the_ipa_is_derived(tmp_path):
    """With ``analysis.importance: derived`` the IPA holds relative weights; the reconciled table
    still ranks the stated importance the study asked for: the same weighted means the stated
    IPA of the same data shows."""
    import shutil

    from .conftest import ROOT

    shutil.copytree(ROOT / "data" / "sample", tmp_path / "s")
    derived = tmp_path / "s" / "study.yaml"
    derived.write_text(derived.read_text(encoding="utf-8") + "\nanalysis: {importance: derived}\n", encoding="utf-8")
    stated = open_stage("05_action_progress").ipa_table.set_index("attribute")["importance"]
    ctx = open_stage("05_action_progress", study_path=str(derived))
    assert ctx.importance_mode == "derived"
    got = ctx.priorities.set_index("attribute")["stated_importance"]
    assert np.allclose(got.sort_index(), stated.sort_index(), rtol=0, atol=1e-12)
    assert ctx.priorities["stated_rank"].notna().all() and ctx.priorities["derived_rank"].notna().all()
