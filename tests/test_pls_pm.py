"""PLS path modelling (``csm_helpers.analysis.pls_pm``) against R plspm, a known answer, and its errors.

Reference files (``tests/data/plspm/``; ``PROVENANCE.md`` there gives repository, path, commit and
licence of each):

* R plspm's results published in GoogleCloudPlatform/plspm-python (``tests/data/``), all for the
  ``satisfaction`` data, the ECSI model, Mode A and ``scaled = FALSE`` (the setting of R plspm's
  own satisfaction example):

  - ``satisfaction.csv`` — the data (R plspm's ``satisfaction``, 250 rows);
  - ``satisfaction.outer-model.csv``, ``satisfaction.outer-model-factorial.csv``,
    ``satisfaction.outer-model-path.csv`` — outer weights, loadings, communalities, redundancies
    for the centroid, factorial and path schemes;
  - ``satisfaction.inner-summary.csv`` — R², block communality, mean redundancy, AVE (centroid);
  - ``satisfaction.effects.csv`` — direct effects = path coefficients (centroid);
  - ``satisfaction.inner-model.csv`` — the SAT regression: estimate, std. error, t, p (centroid);
  - ``satisfaction.scores.csv`` — latent variable scores (centroid);
  - ``satisfaction_unidim.csv`` — Cronbach's alpha, Dillon-Goldstein's rho, eigenvalues;
  - the centroid GoF, 0.609741624338411, from plspm-python's ``tests/test_regression_metric.py``.

  For the factorial and path schemes these files give the outer model only; their R², AVE and
  GoF are derived here from the published communalities and redundancies with R's formulas, and
  their path coefficients by ordinary least squares (plain numpy) on the scores that R's published
  weights give — never with the code under test.

* ``r-plspm-scaled-{centroid,factorial,path}-{outer,paths,blocks}.csv`` — R plspm's own
  ``plspm()`` (gastonstat/plspm source, commit bd21cb1, version 0.4.9) run in R 4.2.2 on the same
  data with ``scaled = TRUE``, R's default, which is ours; the same run with ``scaled = FALSE``
  reproduces the published files above to 6e-16 (script in ``PROVENANCE.md``).

Every comparison is absolute, to 1e-6, signs included.
"""

from __future__ import annotations

import contextlib
import inspect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from csm_helpers.analysis.pls_pm import PlsResult, bootstrap_pls, pls_pm, satisfaction_index
from csm_helpers.core.errors import CsmError, DataError

DATA = Path(__file__).parent / "data" / "plspm"
TOL = 1e-6
SCHEMES = ["centroid", "factorial", "path"]
BLOCKS = {
    "IMAG": [f"imag{i}" for i in range(1, 6)],
    "EXPE": [f"expe{i}" for i in range(1, 6)],
    "QUAL": [f"qual{i}" for i in range(1, 6)],
    "VAL": [f"val{i}" for i in range(1, 5)],
    "SAT": [f"sat{i}" for i in range(1, 5)],
    "LOY": [f"loy{i}" for i in range(1, 5)],
}
PATHS = [("IMAG", "EXPE"), ("IMAG", "SAT"), ("IMAG", "LOY"), ("EXPE", "QUAL"), ("EXPE", "VAL"),
         ("EXPE", "SAT"), ("QUAL", "VAL"), ("QUAL", "SAT"), ("VAL", "SAT"), ("SAT", "LOY")]
PUBLISHED_OUTER = {"centroid": "satisfaction.outer-model.csv",
                   "factorial": "satisfaction.outer-model-factorial.csv",
                   "path": "satisfaction.outer-model-path.csv"}
#: plspm-python tests/test_regression_metric.py: ``assert math.isclose(0.609741624338411, ...)``
PUBLISHED_GOF_CENTROID = 0.609741624338411
OUTER_COLS = ["weight", "loading", "communality", "redundancy"]


@pytest.fixture(scope="module")
def sat() -> pd.DataFrame:
    return pd.read_csv(DATA / "satisfaction.csv", index_col=0)


def _close(actual, expected, what: str, tol: float = TOL) -> None:
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, what
    diff = np.max(np.abs(actual - expected))
    assert diff <= tol, f"{what}: largest difference from R {diff:.3g} > {tol}"


def _by_item(outer: pd.DataFrame, ref: pd.DataFrame) -> pd.DataFrame:
    """Our outer table in the reference's item order, after checking the block of every item."""
    ours = outer.set_index("item").loc[ref["name"]]
    assert ours["block"].tolist() == ref["block"].tolist()
    return ours


def _paths_by(result: PlsResult) -> pd.DataFrame:
    return result.paths.set_index(["from", "to"])


# --------------------------------------------------------------------------------------------
# R plspm, scaled = FALSE: the published results
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("scheme", SCHEMES)
def test_published_r_results_scaled_false(sat, scheme):
    res = pls_pm(sat, blocks=BLOCKS, paths=PATHS, scheme=scheme, scaled=False)
    ref = pd.read_csv(DATA / PUBLISHED_OUTER[scheme])
    ours = _by_item(res.outer, ref)
    for col in OUTER_COLS:
        _close(ours[col], ref[col], f"{scheme} outer {col}")

    # R's formulas on R's published numbers: AVE (Mode A) = mean communality of the block; the
    # redundancy of an item is its communality times its block's R²; GoF = sqrt(mean communality
    # of the items of multi-item blocks x mean R² of the endogenous blocks).
    by_block = ref.groupby("block", sort=False)
    r2_ref = (by_block["redundancy"].sum() / by_block["communality"].sum()).drop("IMAG")
    ave_ref = by_block["communality"].mean()
    gof_ref = np.sqrt(ref["communality"].mean() * r2_ref.mean())
    summary = res.blocks_summary
    _close(summary.loc[ave_ref.index, "ave"], ave_ref, f"{scheme} AVE")
    _close(summary.loc[ave_ref.index, "block_communality"], ave_ref, f"{scheme} block communality")
    _close(res.r2.loc[r2_ref.index], r2_ref, f"{scheme} R²")
    _close(res.gof, gof_ref, f"{scheme} GoF")

    # path coefficients that R's published weights imply: scores = centred data @ weights, then
    # ordinary least squares of each endogenous score on its predecessors (plain numpy)
    x = sat[ref["name"]].to_numpy(float)
    x = x - x.mean(axis=0)
    scores = pd.DataFrame({b: x[:, (ref["block"] == b).to_numpy()] @ ref.loc[ref["block"] == b, "weight"].to_numpy()
                           for b in BLOCKS})
    coef = _paths_by(res)["coefficient"]
    for to in r2_ref.index:
        before = [a for a, b in PATHS if b == to]
        design = np.column_stack([np.ones(len(scores)), scores[before].to_numpy()])
        beta, *_ = np.linalg.lstsq(design, scores[to].to_numpy(), rcond=None)
        fitted = design @ beta
        y = scores[to].to_numpy()
        r2 = 1 - ((y - fitted) ** 2).sum() / ((y - y.mean()) ** 2).sum()
        _close(r2, r2_ref[to], f"{scheme} R² of {to} from R's weights (checks the derivation)", 1e-9)
        _close(coef.loc[[(a, to) for a in before]], beta[1:], f"{scheme} path coefficients into {to}")


def test_published_r_results_centroid_inner_model_and_scores(sat):
    res = pls_pm(sat, blocks=BLOCKS, paths=PATHS, scheme="centroid", scaled=False)
    summary = pd.read_csv(DATA / "satisfaction.inner-summary.csv", index_col=0)
    ours = res.blocks_summary.loc[summary.index]
    _close(ours["r2"], summary["r_squared"], "R²")
    _close(ours["block_communality"], summary["block_communality"], "block communality")
    _close(ours["mean_redundancy"], summary["mean_redundancy"], "mean redundancy")
    _close(ours["ave"], summary["ave"], "AVE")
    assert ours["type"].tolist() == summary["type"].str.lower().tolist()
    _close(res.gof, PUBLISHED_GOF_CENTROID, "GoF")

    effects = pd.read_csv(DATA / "satisfaction.effects.csv").set_index(["from", "to"])
    _close(_paths_by(res)["coefficient"], effects.loc[PATHS, "direct"], "path coefficients")

    inner = pd.read_csv(DATA / "satisfaction.inner-model.csv", index_col=0)  # the SAT regression
    sat_rows = _paths_by(res).xs("SAT", level="to").loc[inner.index]
    for ours_col, ref_col in [("coefficient", "Estimate"), ("std_error", "Std. Error"), ("t", "t value"),
                              ("p_value", "Pr(>|t|)")]:
        _close(sat_rows[ours_col], inner[ref_col], f"SAT regression {ref_col}")

    scores = pd.read_csv(DATA / "satisfaction.scores.csv")
    _close(res.scores[list(scores.columns)], scores, "scores")
    assert res.scores.index.equals(sat.index)
    assert (res.n, res.n_dropped, res.iterations, res.scheme) == (250, 0, 4, "centroid")


@pytest.mark.parametrize("scaled", [True, False])
def test_published_unidimensionality(sat, scaled):
    uni = pd.read_csv(DATA / "satisfaction_unidim.csv", index_col=0)
    ours = pls_pm(sat, blocks=BLOCKS, paths=PATHS, scaled=scaled).blocks_summary.loc[uni.index]
    for ours_col, ref_col in [("c_alpha", "cronbach_alpha"), ("dg_rho", "dillon_goldstein_rho"),
                              ("eig_1st", "eig_1st"), ("eig_2nd", "eig_2nd")]:
        _close(ours[ours_col], uni[ref_col], ref_col)
    assert ours["items"].tolist() == uni["mvs"].tolist()


# --------------------------------------------------------------------------------------------
# R plspm, scaled = TRUE (R's default and ours): R plspm's plspm() run on the same data
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("scheme", SCHEMES)
def test_r_plspm_scaled_true(sat, scheme):
    res = pls_pm(sat, blocks=BLOCKS, paths=PATHS, scheme=scheme)  # R's defaults
    assert res.scaled
    outer = pd.read_csv(DATA / f"r-plspm-scaled-{scheme}-outer.csv")
    ours = _by_item(res.outer, outer)
    for col in OUTER_COLS:
        _close(ours[col], outer[col], f"{scheme} outer {col}")

    paths = pd.read_csv(DATA / f"r-plspm-scaled-{scheme}-paths.csv").set_index(["from", "to"])
    assert sorted(paths.index) == sorted(PATHS)
    ours_paths = _paths_by(res).loc[paths.index]
    for ours_col, ref_col in [("coefficient", "estimate"), ("std_error", "std_error"), ("t", "t"), ("p_value", "p")]:
        _close(ours_paths[ours_col], paths[ref_col], f"{scheme} paths {ref_col}")

    blocks = pd.read_csv(DATA / f"r-plspm-scaled-{scheme}-blocks.csv", index_col=0)
    summary = res.blocks_summary.loc[blocks.index]
    for col in ["r2", "block_communality", "mean_redundancy", "ave", "c_alpha", "dg_rho", "eig_1st", "eig_2nd"]:
        _close(summary[col], blocks[col], f"{scheme} {col}")
    assert summary["type"].tolist() == blocks["type"].str.lower().tolist()
    _close(res.r2, blocks.loc[res.r2.index, "r2"], f"{scheme} R² series")
    _close(res.gof, blocks["gof"].iloc[0], f"{scheme} GoF")
    assert res.iterations == blocks["iterations"].iloc[0]


def test_defaults_are_r_plspm_defaults(sat):
    params = inspect.signature(pls_pm).parameters
    assert (params["scheme"].default, params["tol"].default, params["max_iter"].default,
            params["scaled"].default) == ("centroid", 1e-6, 100, True)
    a = pls_pm(sat, blocks=BLOCKS, paths=PATHS)
    b = pls_pm(sat, blocks=BLOCKS, paths=PATHS, scheme="centroid", tol=1e-6, max_iter=100, scaled=True)
    pd.testing.assert_frame_equal(a.outer, b.outer)


def test_scores_are_the_weighted_items_and_standardised(sat):
    res = pls_pm(sat, blocks=BLOCKS, paths=PATHS, scheme="path")
    x = sat[res.outer["item"]].to_numpy(float)
    x = (x - x.mean(axis=0)) / x.std(axis=0)  # divisor n, as R plspm's scaling
    for block in BLOCKS:
        sel = (res.outer["block"] == block).to_numpy()
        np.testing.assert_allclose(res.scores[block], x[:, sel] @ res.outer.loc[sel, "weight"], atol=1e-12)
    np.testing.assert_allclose(res.scores.mean(), 0, atol=1e-12)
    np.testing.assert_allclose(res.scores.std(ddof=0), 1, atol=1e-12)


def test_reverse_coded_block_keeps_positive_loadings_and_turns_its_paths(sat):
    base = pls_pm(sat, blocks=BLOCKS, paths=PATHS)
    flipped = sat.copy()
    for item in BLOCKS["SAT"]:
        flipped[item] = 10 - flipped[item]
    res = pls_pm(flipped, blocks=BLOCKS, paths=PATHS)
    _close(res.outer["loading"], base.outer["loading"], "loadings")
    sign = np.where((base.paths["from"] == "SAT") | (base.paths["to"] == "SAT"), -1.0, 1.0)
    _close(res.paths["coefficient"], sign * base.paths["coefficient"], "path coefficients")


def test_incomplete_rows_are_dropped_and_counted(sat):
    holes = sat.copy()
    holes.loc[holes.index[[3, 10, 11]], "sat2"] = np.nan
    holes.loc[holes.index[40], "imag1"] = np.nan
    holes.loc[holes.index[41], "gender"] = None  # not an item of the model: the row stays
    res = pls_pm(holes, blocks=BLOCKS, paths=PATHS)
    assert (res.n, res.n_dropped) == (246, 4)
    kept = pls_pm(holes.dropna(subset=[c for items in BLOCKS.values() for c in items]), blocks=BLOCKS, paths=PATHS)
    pd.testing.assert_frame_equal(res.outer, kept.outer)
    assert res.scores.index.equals(kept.scores.index)


# --------------------------------------------------------------------------------------------
# a known answer
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("scheme", SCHEMES)
def test_synthetic_known_structure(scheme):
    # Latent variables with unit variance: A -> B (0.6), A -> C (0.3), B -> C (0.5); four items
    # per block, x = 0.8 * latent + noise of variance 0.36 (items of unit variance).
    n, lam, p = 20_000, 0.8, 4
    rng = np.random.default_rng(20240601)
    a = rng.standard_normal(n)
    b = 0.6 * a + np.sqrt(1 - 0.36) * rng.standard_normal(n)
    c = 0.3 * a + 0.5 * b + np.sqrt(1 - 0.52) * rng.standard_normal(n)  # var(0.3a + 0.5b) = 0.52
    data = pd.DataFrame({f"{name}{i}": lam * lv + np.sqrt(1 - lam**2) * rng.standard_normal(n)
                         for name, lv in (("a", a), ("b", b), ("c", c)) for i in range(1, p + 1)})
    blocks = {k: [f"{k.lower()}{i}" for i in range(1, p + 1)] for k in "ABC"}
    res = pls_pm(data, blocks=blocks, paths=[("A", "B"), ("A", "C"), ("B", "C")], scheme=scheme)

    # PLS estimates paths between composites of the items, not between the latent variables: with
    # equal loadings every scheme's population weights are equal, the composite of a block
    # correlates sqrt(rel) with its latent variable, rel = p lam² / (p lam² + 1 - lam²) (Spearman-
    # Brown), so composites correlate rel x the latent correlation, and the paths the estimator
    # converges to are the regressions on that correlation matrix.
    rel = p * lam**2 / (p * lam**2 + 1 - lam**2)
    latent = np.array([[1, 0.6, 0.6], [0.6, 1, 0.68], [0.6, 0.68, 1]])  # corr(a, c) = 0.3 + 0.5 * 0.6 ...
    comp = latent * rel + np.eye(3) * (1 - rel)
    expected_ab = comp[0, 1]
    expected_c = np.linalg.solve(comp[:2, :2], comp[:2, 2])
    coef = _paths_by(res)["coefficient"]
    # A standardised regression coefficient's sampling sd here is at most
    # sqrt((1 - R²) / (n (1 - r²))) ~ sqrt(0.6 / (20000 * 0.4)) < 0.009; 0.03 is over 3 sd.
    _close(coef[("A", "B")], expected_ab, "A -> B", 0.03)
    _close(coef[[("A", "C"), ("B", "C")]], expected_c, "A, B -> C", 0.03)
    # loading of an item on the mean of its block's p items: sqrt(1 + (p - 1) lam²) / sqrt(p)
    _close(res.outer["loading"], np.full(12, np.sqrt(1 + (p - 1) * lam**2) / np.sqrt(p)), "loadings", 0.01)
    # and the structural signs and ordering of the true model are recovered
    assert coef[("B", "C")] > coef[("A", "C")] > 0


# --------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------

def _small() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    f = rng.standard_normal(60)
    return pd.DataFrame({c: f + rng.standard_normal(60) for c in ["a1", "a2", "b1", "b2", "c1", "c2"]})


SMALL_BLOCKS = {"A": ["a1", "a2"], "B": ["b1", "b2"], "C": ["c1", "c2"]}
SMALL_PATHS = [("A", "B"), ("B", "C")]


@pytest.mark.parametrize("blocks, paths, needle", [
    ({"A": [], "B": ["b1", "b2"]}, [("A", "B")], "block 'A' has no items"),
    ({**SMALL_BLOCKS, "C": ["c1", "zz"]}, SMALL_PATHS, "item 'zz' is not a column of the data"),
    ({**SMALL_BLOCKS, "C": ["c1", "label"]}, SMALL_PATHS, "item 'label' is not numeric"),
    ({**SMALL_BLOCKS, "C": ["c1", "a1"]}, SMALL_PATHS, "item 'a1' is in two blocks, 'A' and 'C'"),
    ({**SMALL_BLOCKS, "C": ["c1", "c1"]}, SMALL_PATHS, "item 'c1' is twice in the same block"),
    (SMALL_BLOCKS, [("A", "B"), ("B", "SATT")], "names 'SATT', which is not a block"),
    (SMALL_BLOCKS, [("A", "B"), ("B", "C"), ("C", "C")], "goes from a block to itself"),
    (SMALL_BLOCKS, [("A", "B"), ("B", "C"), ("C", "A")], "cycle, A -> B -> C -> A"),
    (SMALL_BLOCKS, [("A", "B"), ("B", "A"), ("B", "C")], "(A -> B -> A)"),
    (SMALL_BLOCKS, [("A", "B")], "block 'C' has no path"),
    ({}, [], "no blocks were given"),
])
def test_model_errors_name_the_problem(blocks, paths, needle):
    data = _small().assign(label="x")
    with pytest.raises(DataError) as err:
        pls_pm(data, blocks=blocks, paths=paths)
    assert needle in str(err.value)


def test_every_model_problem_is_reported_at_once():
    with pytest.raises(DataError) as err:
        pls_pm(_small(), blocks={"A": ["a1", "zz"], "B": []}, paths=[("A", "Q")])
    assert len(err.value.problems) == 3


def test_data_errors_name_the_problem():
    data = _small()
    with pytest.raises(DataError, match="'b2' take a single value"):
        pls_pm(data.assign(b2=3.0), blocks=SMALL_BLOCKS, paths=SMALL_PATHS)
    few = data.copy()
    few.loc[few.index[8:], "a1"] = np.nan
    with pytest.raises(DataError, match="only 8 row.*answer every item.*at least 10"):
        pls_pm(few, blocks=SMALL_BLOCKS, paths=SMALL_PATHS)
    with pytest.raises(DataError, match="'c1' hold an infinite value"):
        pls_pm(data.assign(c1=np.inf), blocks=SMALL_BLOCKS, paths=SMALL_PATHS)


def test_non_convergence_is_an_error_as_in_r(sat):
    # R stops when the iteration count reaches maxiter, even if the weights settled there:
    # the satisfaction model needs 4 iterations, so max_iter=4 fails and 5 succeeds.
    with pytest.raises(DataError, match="did not converge within max_iter=4"):
        pls_pm(sat, blocks=BLOCKS, paths=PATHS, max_iter=4)
    assert pls_pm(sat, blocks=BLOCKS, paths=PATHS, max_iter=5).iterations == 4


def test_argument_errors():
    with pytest.raises(CsmError, match="scheme 'centroids'"):
        pls_pm(_small(), blocks=SMALL_BLOCKS, paths=SMALL_PATHS, scheme="centroids")  # type: ignore[arg-type]
    with pytest.raises(CsmError, match="tol"):
        pls_pm(_small(), blocks=SMALL_BLOCKS, paths=SMALL_PATHS, tol=0)


# --------------------------------------------------------------------------------------------
# the index
# --------------------------------------------------------------------------------------------

def _index_numpy(sat: pd.DataFrame, items: list[str], weights: np.ndarray, *, per_sd: bool) -> float:
    x = sat[items].to_numpy(float)
    w = weights / x.std(axis=0, ddof=1) if per_sd else weights
    w = w / w.sum()
    return float(100 * (w @ x.mean(axis=0) - 0) / (10 - 0))


def test_index_from_r_weights(sat):
    # scaled = FALSE: R's published weights are already on the items' 0-10 scale
    ref = pd.read_csv(DATA / "satisfaction.outer-model.csv")
    sel = ref["block"] == "SAT"
    expected = _index_numpy(sat, ref.loc[sel, "name"].tolist(), ref.loc[sel, "weight"].to_numpy(), per_sd=False)
    res = pls_pm(sat, blocks=BLOCKS, paths=PATHS, scaled=False)
    assert abs(satisfaction_index(sat, res, block="SAT", scale=(0, 10)) - expected) < 1e-9
    # scaled = TRUE: R's weights of the standardised items, divided by the items' sd
    ref = pd.read_csv(DATA / "r-plspm-scaled-centroid-outer.csv")
    sel = ref["block"] == "SAT"
    expected = _index_numpy(sat, ref.loc[sel, "name"].tolist(), ref.loc[sel, "weight"].to_numpy(), per_sd=True)
    res = pls_pm(sat, blocks=BLOCKS, paths=PATHS)
    assert abs(satisfaction_index(sat, res, block="SAT", scale=(0, 10)) - expected) < 1e-9
    assert 0 < expected < 100


def test_index_errors(sat):
    res = pls_pm(sat, blocks=BLOCKS, paths=PATHS)
    with pytest.raises(DataError, match="outside the scale 1–10"):
        satisfaction_index(sat, res, block="SAT", scale=(1, 10))
    with pytest.raises(DataError, match="block 'SATT' is not in the model"):
        satisfaction_index(sat, res, block="SATT", scale=(0, 10))
    with pytest.raises(DataError, match="estimated on 250"):
        satisfaction_index(sat.iloc[:200], res, block="SAT", scale=(0, 10))
    with pytest.raises(CsmError, match="minimum first"):
        satisfaction_index(sat, res, block="SAT", scale=(10, 0))


# --------------------------------------------------------------------------------------------
# the bootstrap
# --------------------------------------------------------------------------------------------

def test_bootstrap_is_seeded_and_brackets_the_estimates(sat):
    kw = dict(blocks=BLOCKS, paths=PATHS, index_block="SAT", scale=(0, 10))
    first = bootstrap_pls(sat, n_boot=500, seed=11, **kw)
    pd.testing.assert_frame_equal(first, bootstrap_pls(sat, n_boot=500, seed=11, **kw))
    other = bootstrap_pls(sat, n_boot=500, seed=12, **kw)
    assert not np.allclose(first["ci_low"], other["ci_low"])
    pd.testing.assert_series_equal(first["estimate"], other["estimate"])
    assert first["what"].tolist() == ["path"] * len(PATHS) + ["index"]
    assert list(zip(first["from"], first["to"], strict=True))[:-1] == PATHS
    assert (first["ci_low"] <= first["estimate"]).all() and (first["estimate"] <= first["ci_high"]).all()
    assert (first["n_boot_ok"] == 500).all()
    full = pls_pm(sat, blocks=BLOCKS, paths=PATHS)
    _close(first["estimate"].iloc[:-1], full.paths["coefficient"], "estimates", 1e-12)


@pytest.mark.parametrize("scheme", ["factorial", "centroid", "path"])
def test_bootstrap_interval_is_the_percentile_of_the_resamples(sat, scheme, monkeypatch):
    """The resamples are estimated together, in blocks (here several, of 5): each one's
    estimates are still those pls_pm gives on it alone, in every inner weighting scheme."""
    from csm_helpers.analysis import pls_pm as module

    monkeypatch.setattr(module, "_BOOT_CELLS", 5 * len(sat) * sum(len(v) for v in BLOCKS.values()))
    n_boot, seed, level = 12, 5, 0.9
    table = bootstrap_pls(sat, blocks=BLOCKS, paths=PATHS, scheme=scheme, n_boot=n_boot, seed=seed,
                          level=level, index_block="SAT", scale=(0, 10))
    rows = np.random.default_rng(seed).integers(0, len(sat), size=(n_boot, len(sat)))
    stats = []
    for b in range(n_boot):
        resample = sat.iloc[rows[b]]
        res = pls_pm(resample, blocks=BLOCKS, paths=PATHS, scheme=scheme)
        stats.append([*res.paths["coefficient"], satisfaction_index(resample, res, block="SAT", scale=(0, 10))])
    stats = np.array(stats)
    low, high = np.percentile(stats, [5, 95], axis=0)
    _close(table["ci_low"], low, "ci_low", 1e-10)
    _close(table["ci_high"], high, "ci_high", 1e-10)
    _close(table["std_error"], stats.std(axis=0, ddof=1), "std_error", 1e-10)


@pytest.mark.parametrize("cells", [None, 1])
def test_bootstrap_skips_and_counts_failed_resamples(cells, monkeypatch):
    """A resample in which an item is constant is skipped; the same whether the resamples'
    moments come from the rows' cross-products or (many rows: ``_BOOT_CELLS`` small) one by one."""
    from csm_helpers.analysis import pls_pm as module

    if cells is not None:
        monkeypatch.setattr(module, "_BOOT_CELLS", cells)
    rng = np.random.default_rng(3)
    f = rng.standard_normal(30)
    data = pd.DataFrame({"a1": f + rng.standard_normal(30), "a2": f + rng.standard_normal(30),
                         "b1": f + rng.standard_normal(30), "b2": np.r_[np.zeros(29), 1.0]})
    table = bootstrap_pls(data, blocks={"A": ["a1", "a2"], "B": ["b1", "b2"]}, paths=[("A", "B")],
                          n_boot=100, seed=1)
    rows = np.random.default_rng(1).integers(0, 30, size=(100, 30))
    expected_ok = int((rows == 29).any(axis=1).sum())  # b2 varies only when row 29 is drawn
    assert 0 < expected_ok < 100
    assert table["n_boot_ok"].iloc[0] == expected_ok


def test_bootstrap_skips_the_resamples_that_do_not_converge(sat):
    """With a tight ``max_iter`` some resamples stop before their weights settle (here 4 of
    40 need a fifth iteration): they are skipped, as pls_pm refuses them alone, while the
    others in the same block go on, and the interval is that of the others."""
    kw = dict(blocks=BLOCKS, paths=PATHS, scheme="factorial")
    rows = np.random.default_rng(3).integers(0, len(sat), size=(40, len(sat)))
    converged = []
    for b in range(40):
        with contextlib.suppress(DataError):
            converged.append(pls_pm(sat.iloc[rows[b]], max_iter=5, **kw).paths["coefficient"])
    assert 0 < len(converged) < 40, "max_iter=5 must split these resamples"
    table = bootstrap_pls(sat, n_boot=40, seed=3, max_iter=5, **kw)
    assert (table["n_boot_ok"] == len(converged)).all()
    _close(table["ci_low"], np.percentile(np.array(converged), 2.5, axis=0), "ci_low", 1e-10)
    _close(table["ci_high"], np.percentile(np.array(converged), 97.5, axis=0), "ci_high", 1e-10)


def test_bootstrap_argument_errors(sat):
    with pytest.raises(CsmError, match="n_boot"):
        bootstrap_pls(sat, blocks=BLOCKS, paths=PATHS, n_boot=5, seed=1)
    with pytest.raises(CsmError, match="scale"):
        bootstrap_pls(sat, blocks=BLOCKS, paths=PATHS, n_boot=10, seed=1, index_block="SAT")


# --------------------------------------------------------------------------- the model in study.yaml
@pytest.fixture
def sample_copy(tmp_path):
    import shutil

    folder = tmp_path / "s"
    shutil.copytree(Path(__file__).resolve().parents[1] / "data" / "sample", folder)
    return folder / "study.yaml"


def _with_model(path, model) -> None:
    import yaml

    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    cfg["satisfaction_model"] = model
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")


ECSI_BLOCKS = {b: [f"{b}_{i}" for i in (1, 2)] for b in
               ("image", "expectation", "quality", "value", "satisfaction", "loyalty")}


@pytest.mark.parametrize(("model", "needle"), [
    ({"blocks": {"quality": ["perf_fees"], "satisfaction": ["overall_sat"]}},
     "the default ECSI paths need the block(s) image, expectation, loyalty, value"),
    ({"blocks": {"q": ["perf_fees"], "s": ["overall_sat"], "l": ["recommend"]},
      "paths": [["q", "s"], ["s", "l"], ["l", "q"]]}, "a cycle l -> q -> s -> l"),
    ({"blocks": {"q": [], "s": ["overall_sat"]}, "paths": [["q", "s"]]}, "blocks.q is empty"),
    ({"blocks": {"q": ["perf_fees"], "s": ["overall_sat"]}, "paths": [["q", "sat"]]},
     "names the block 'sat', which is not in blocks"),
    ({"blocks": {"q": ["perf_fees"], "s": ["overall_sat"]}, "paths": [["q", "q"]]}, "from a block to itself"),
    ({"blocks": {"q": ["perf_fees"], "s": ["overall_sat"], "x": ["perf_accuracy"]}, "paths": [["q", "s"]]},
     "blocks x have no path"),
    ({"blocks": {"q": ["perf_fees"], "s": ["perf_fees"]}, "paths": [["q", "s"]]},
     "item 'perf_fees' is in blocks.q and blocks.s"),
    ({"blocks": {"q": ["perf_fees"], "s": ["email"]}, "paths": [["q", "s"]], "index": "s"},
     "listed in responses.personal_data"),
    ({"blocks": {"q": ["perf_fees"], "s": ["overall_sat"]}, "paths": [["q", "s"]], "index": "sat"},
     "index is 'sat', which is not a block"),
])
def test_a_bad_model_in_study_yaml_names_the_key_and_the_fix(sample_copy, model, needle):
    from csm_helpers.core.errors import ConfigError
    from csm_helpers.study.config import load_study

    _with_model(sample_copy, model)
    with pytest.raises(ConfigError, match="satisfaction_model|personal_data") as err:
        load_study(sample_copy)
    assert needle in str(err.value)


def test_the_ecsi_paths_are_the_default_and_items_are_validated_as_ratings(sample_copy):
    from csm_helpers.study.config import ECSI_PATHS, load_study
    from csm_helpers.study.readers import read_table
    from csm_helpers.study.validate import validate_responses

    _with_model(sample_copy, {"blocks": ECSI_BLOCKS})
    study = load_study(sample_copy)
    assert study.satisfaction_model.edges() == ECSI_PATHS
    # the R plspm example's paths, as the fixture files name them (IMAG -> EXPE ...)
    ref = pd.read_csv(DATA / "r-plspm-scaled-centroid-paths.csv")
    names = {"IMAG": "image", "EXPE": "expectation", "QUAL": "quality", "VAL": "value", "SAT": "satisfaction",
             "LOY": "loyalty"}
    assert {(names[a], names[b]) for a, b in ref[["from", "to"]].itertuples(index=False)} == set(ECSI_PATHS)
    errors = validate_responses(read_table(study.resolve(study.responses.file)), study).errors
    assert any("column 'image_1' (set by satisfaction_model.blocks.image in study.yaml) is not in the file" in e
               for e in errors)


# --------------------------------------------------------------------------- the model in a study's report
ECSI = {"image": "imag", "expectation": "expe", "quality": "qual", "value": "val", "satisfaction": "sat",
        "loyalty": "loy"}
R_NAMES = {"IMAG": "image", "EXPE": "expectation", "QUAL": "quality", "VAL": "value", "SAT": "satisfaction",
           "LOY": "loyalty"}


def write_bank_study(folder: Path) -> Path:
    """A second study: R plspm's ECSI bank data (0–10 items, 250 customers, segments by gender),
    with the ECSI model in study.yaml and no data-quality exclusions (so the model sees R's rows)."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    data = pd.read_csv(DATA / "satisfaction.csv").rename(columns={"Unnamed: 0": "cid"})
    data.to_csv(folder / "bank.csv", index=False)
    blocks = {b: [c for c in data.columns if c.rstrip("0123456789") == p] for b, p in ECSI.items()}
    cfg = {"name": "ECSI bank", "seed": 7,
           "responses": {"file": "bank.csv", "id": "cid", "segments": ["gender"]},
           "scales": {"default": [0, 10]}, "overall": "sat1",
           "attributes": [{"id": f"q{i}", "label": f"Quality {i}", "dimension": "product", "performance": f"qual{i}"}
                          for i in (1, 2, 3)],
           "measurement": {"exclude": []}, "analysis": {"bootstrap": 200},
           "satisfaction_model": {"blocks": blocks}}
    (folder / "study.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder / "study.yaml"


def test_the_reports_model_is_r_plspms_on_a_second_study(tmp_path):
    from csm_helpers.study.config import load_study
    from csm_helpers.workbook.context import StageContext
    from csm_helpers.workbook.metrics import model_entry

    study = load_study(write_bank_study(tmp_path / "bank"))
    model = StageContext(stage="04_analysis", study=study).satisfaction_model
    result = model["result"]
    ref = pd.read_csv(DATA / "r-plspm-scaled-centroid-paths.csv")
    got = result.paths.set_index(["from", "to"])["coefficient"]
    for r in ref.itertuples(index=False):
        assert got[(R_NAMES[r[0]], R_NAMES[r[1]])] == pytest.approx(r.estimate, abs=1e-10)
    outer = pd.read_csv(DATA / "r-plspm-scaled-centroid-outer.csv", index_col=0)
    w = result.outer.set_index("item")["weight"]
    np.testing.assert_allclose(w[outer.index].to_numpy(), outer["weight"].to_numpy(), atol=1e-10)
    # the index: ACSI rescaling of R's weights, worked out here with numpy
    data = pd.read_csv(DATA / "satisfaction.csv")
    items = [f"sat{i}" for i in (1, 2, 3, 4)]
    rw = outer.loc[items, "weight"].to_numpy()
    x = data[items].to_numpy(float)
    ws = rw / x.std(axis=0, ddof=0)
    ws = ws / ws.sum()
    assert model["index"] == pytest.approx(100 * (x.mean(axis=0) @ ws - 0) / 10, abs=1e-9)
    entry = model_entry(model)
    assert entry["index"]["ci_low"] < entry["index"]["value"] < entry["index"]["ci_high"]
    assert entry["n"] == 250 and len(entry["paths"]) == 10
    male = StageContext(stage="04_analysis", study=study, segment="gender=male").satisfaction_model
    assert male["result"].n == 102  # a segment's own model


def test_a_model_on_too_few_answers_is_withheld_with_the_reason(tmp_path):
    from csm_helpers.study.config import load_study
    from csm_helpers.workbook.context import StageContext

    path = write_bank_study(tmp_path / "bank")
    data = pd.read_csv(path.parent / "bank.csv")
    data.head(45).to_csv(path.parent / "bank.csv", index=False)  # the ECSI model needs 10 x 5 items = 50
    model = StageContext(stage="04_analysis", study=load_study(path)).satisfaction_model
    assert set(model) == {"withheld"}
    assert "45 respondents answered every item" in model["withheld"] and "at least 50" in model["withheld"]


def test_an_index_block_on_two_scales_is_refused(sample_copy):
    from csm_helpers.core.errors import ConfigError
    from csm_helpers.study.config import load_study

    _with_model(sample_copy, {"blocks": {"q": ["perf_fees"], "s": ["overall_sat", "recommend"]}, "paths": [["q", "s"]],
                              "index": "s"})
    with pytest.raises(ConfigError, match=r"the items of block 's' are on different scales \(0-10, 1-5\)"):
        load_study(sample_copy)


@pytest.mark.slow
def test_stage_04_reports_the_model_of_a_second_study(tmp_path):
    import json

    from .conftest import run_cli

    path = write_bank_study(tmp_path / "bank")
    proc = run_cli("run", "--study", str(path), "--stages", "04", "--out", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "out" / "all" / "04_analysis.html").read_text(encoding="utf-8")
    metrics = json.loads((tmp_path / "out" / "all" / "metrics.json").read_text(encoding="utf-8"))
    entry = metrics["satisfaction_model"]
    assert entry["n"] == 250 and entry["scheme"] == "centroid"
    assert f"{entry['index']['value']:.1f} of 100" in html
    assert "Satisfaction index (0–100)" in html  # the KPI tile
    assert "Satisfaction-index model (PLS path modelling)" in html  # the methods appendix
    assert html.count("csm-chart-path-model") + html.count("<img") >= 1 and len(html) < 2_000_000


def test_a_segment_hidden_to_protect_a_smaller_one_does_not_give_its_size(tmp_path):
    from csm_helpers.study.config import load_study
    from csm_helpers.workbook.context import StageContext

    path = write_bank_study(tmp_path / "bank")
    data = pd.read_csv(path.parent / "bank.csv")
    data.loc[:1, "gender"] = "other"  # 2 respondents: hidden; the smallest other segment (male) is hidden with it
    data.to_csv(path.parent / "bank.csv", index=False)
    study = load_study(path)
    male = StageContext(stage="04_analysis", study=study, segment="gender=male").satisfaction_model
    n_male = int((data["gender"] == "male").sum())
    assert set(male) == {"withheld"} and "hidden to protect a smaller segment" in male["withheld"]
    assert str(n_male) not in male["withheld"]
    female = StageContext(stage="04_analysis", study=study, segment="gender=female").satisfaction_model
    assert "result" in female


# --------------------------------------------------------------------------- the bundled sample's model
# The sample's csi_* items come from a known ECSI model (csm_helpers.synthetic.model.MODEL_BLOCKS
# and MODEL_PATHS). truth.json gives the structural model and what PLS-PM estimates of the observed
# 1-5 items as n grows (population_pls). The truth is recomputed here a second, independent way:
# bivariate-normal orthant probabilities from scipy (the generator uses Mehler's series) and
# equal-weight composites (a block's items are exchangeable) with numpy least squares.
def _sample_truth(root: Path | None = None) -> dict:
    import json

    root = root or Path(__file__).resolve().parents[1] / "data" / "sample"
    return json.loads((root / "truth.json").read_text(encoding="utf-8"))


def _discretised_cov(ta, tb, r):
    """Cov of #(X > ta_k) and #(Y > tb_m) for standard normal X, Y with correlation r (scipy)."""
    from scipy.stats import multivariate_normal, norm

    if r == 1.0:  # X = Y: P(X > a, X > b) = P(X > max(a, b))
        return sum(norm.sf(max(a, b)) - norm.sf(a) * norm.sf(b) for a in ta for b in tb)
    mvn = multivariate_normal(mean=[0.0, 0.0], cov=[[1.0, r], [r, 1.0]])
    return sum(float(mvn.cdf([-a, -b])) - norm.sf(a) * norm.sf(b) for a in ta for b in tb)


def test_the_sample_models_population_truth_is_reproduced_independently():
    from scipy.stats import norm

    truth = _sample_truth()
    model, cuts = truth["satisfaction_model"], truth["model"]["cuts"]
    blocks = model["blocks"]
    names = model["order"]  # of latent_correlation and composite_correlation
    phi = np.array(model["latent_correlation"])
    # the latent correlations reproduce the true paths (OLS of each block on its predecessors)
    for to in names:
        preds = [a for a, t in (k.split("->") for k in model["paths"]) if t == to]
        if preds:
            i = [names.index(p) for p in preds]
            beta = np.linalg.solve(phi[np.ix_(i, i)], phi[i, names.index(to)])
            for p, b in zip(preds, beta, strict=True):
                assert b == pytest.approx(model["paths"][f"{p}->{to}"], abs=1e-9)
    th = {b: [(c - v["location"]) / v["sd"] for c in cuts] for b, v in blocks.items()}
    var = {b: _discretised_cov(th[b], th[b], 1.0) for b in names}
    size = {b: len(v["items"]) for b, v in blocks.items()}
    within = {b: _discretised_cov(th[b], th[b], v["loading"] ** 2) / var[b] for b, v in blocks.items()}
    vsum = {b: size[b] + size[b] * (size[b] - 1) * within[b] for b in names}
    comp = np.eye(len(names))
    for i, a in enumerate(names):
        for j, b in enumerate(names[:i]):
            r = blocks[a]["loading"] * blocks[b]["loading"] * phi[i, j]
            rab = _discretised_cov(th[a], th[b], r) / np.sqrt(var[a] * var[b])
            comp[i, j] = comp[j, i] = size[a] * size[b] * rab / np.sqrt(vsum[a] * vsum[b])
    pop = model["population_pls"]
    np.testing.assert_allclose(comp, np.array(pop["composite_correlation"]), atol=1e-6)
    for b in names:
        assert (1 + (size[b] - 1) * within[b]) / np.sqrt(vsum[b]) == pytest.approx(pop["loadings"][b], abs=1e-6)
    for to in pop["r2"]:
        preds = [a for a, t in (k.split("->") for k in pop["paths"]) if t == to]
        i = [names.index(p) for p in preds]
        beta, *_ = np.linalg.lstsq(comp[np.ix_(i, i)], comp[i, names.index(to)], rcond=None)
        for p, b in zip(preds, beta, strict=True):
            assert b == pytest.approx(pop["paths"][f"{p}->{to}"], abs=1e-6)
    sat = blocks["satisfaction"]
    mean = 1 + sum(norm.sf((c - sat["location"]) / sat["sd"]) for c in cuts)
    assert pop["index"] == pytest.approx(100 * (mean - 1) / 4, abs=1e-6)


def test_the_generator_draws_the_population_model():
    """400 times the sample's size: PLS-PM of the generated items is within 0.01 of population_pls."""
    from csm_helpers.synthetic.model import MODEL_BLOCKS, MODEL_PATHS
    from csm_helpers.synthetic.survey import model_items

    pop = _sample_truth()["satisfaction_model"]["population_pls"]
    data = model_items(np.random.default_rng(11), np.random.default_rng(12).standard_normal(200_000))
    assert data.isna().mean().between(0.003, 0.007).all()  # MODEL_MISSING = 0.005, completely at random
    blocks = {b.name: list(b.items) for b in MODEL_BLOCKS}
    res = pls_pm(data, blocks=blocks, paths=list(MODEL_PATHS))
    for row in res.paths.to_dict("records"):
        assert row["coefficient"] == pytest.approx(pop["paths"][f"{row['from']}->{row['to']}"], abs=0.01)
    for row in res.outer.itertuples():
        assert row.loading == pytest.approx(pop["loadings"][row.block], abs=0.005)
    for block, r2 in pop["r2"].items():
        assert res.r2[block] == pytest.approx(r2, abs=0.01)
    assert satisfaction_index(data, res, block="satisfaction", scale=(1, 5)) == pytest.approx(pop["index"], abs=0.2)


def test_the_sample_report_recovers_the_population_model():
    from csm_helpers.study.config import load_study
    from csm_helpers.workbook.context import StageContext

    pop = _sample_truth()["satisfaction_model"]["population_pls"]
    study = load_study(Path(__file__).resolve().parents[1] / "data" / "sample" / "study.yaml")
    model = StageContext(stage="04_analysis", study=study).satisfaction_model
    boot = model["bootstrap"]
    paths = boot.loc[boot["what"] == "path"]
    assert len(paths) == 10 and model["result"].n > 1000
    for row in paths.to_dict("records"):  # each population value within 4 bootstrap SEs of the estimate
        assert abs(row["estimate"] - pop["paths"][f"{row['from']}->{row['to']}"]) < 4 * row["std_error"], row
    # the one true zero of the structural model (expectation -> satisfaction) is not significant
    zero = paths.loc[(paths["from"] == "expectation") & (paths["to"] == "satisfaction")].iloc[0]
    assert zero.ci_low < 0 < zero.ci_high
    assert (paths.drop(zero.name)["ci_low"] > 0).all()
    index = boot.loc[boot["what"] == "index"].iloc[0]
    assert index.ci_low < pop["index"] < index.ci_high


def test_the_sample_run_reports_the_model(sample_run):
    import json

    out, _proc = sample_run
    pop = _sample_truth()["satisfaction_model"]["population_pls"]
    entry = json.loads((out / "all" / "metrics.json").read_text(encoding="utf-8"))["satisfaction_model"]
    assert entry["index"]["ci_low"] < pop["index"] < entry["index"]["ci_high"]
    assert {(p["from"], p["to"]) for p in entry["paths"]} == {tuple(k.split("->")) for k in pop["paths"]}
    html = (out / "all" / "04_analysis.html").read_text(encoding="utf-8")
    assert "Satisfaction index (0–100)" in html and "Satisfaction-index model (PLS path modelling)" in html


def test_the_tiles_label_their_intervals_with_the_studys_level(sample_copy):
    """``analysis.level: 0.9`` gives 90% intervals: the KPI tiles, the model's tile among them, say so."""
    import yaml

    from csm_helpers.study.config import load_study
    from csm_helpers.workbook.context import StageContext
    from csm_helpers.workbook.summary import report_summary

    cfg = yaml.safe_load(sample_copy.read_text(encoding="utf-8"))
    cfg["analysis"] = {**(cfg.get("analysis") or {}), "level": 0.9, "bootstrap": 200}
    sample_copy.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    ctx = StageContext(stage="summary", study=load_study(sample_copy))
    tiles = {t["kpi"]: t for t in report_summary(ctx, with_priorities=False)["tiles"]}
    assert set(tiles) == {"csat_top2", "csi", "nps", "satisfaction_index"}
    assert all(t["interval"].startswith("90% CI ") for t in tiles.values()), tiles
    boot = ctx.satisfaction_model["bootstrap"]
    lo, hi = boot.loc[boot["what"] == "index", ["ci_low", "ci_high"]].iloc[0]
    assert tiles["satisfaction_index"]["interval"] == f"90% CI {lo:.1f} – {hi:.1f}"
