"""Tests of csm_helpers.synthetic.sample: the seeded sample-study generator and the bundled sample.

The statistical checks use independent tools (statsmodels OLS, scipy's normal and bivariate
normal CDFs and chi-square, pingouin's Cronbach's alpha, and the package's own Johnson
relative weights, which the generator does not use) on data the generator wrote, against the
truths it claims in ``truth.json``; the analytic expectations are recomputed here from the
model parameters, not taken from the generator's own arithmetic.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from csm_helpers.analysis.drivers import relative_weights
from csm_helpers.core.errors import CsmError
from csm_helpers.study.config import (
    COMPANY_GROUPS,
    CUSTOMER_GROUPS,
    DIMENSIONS,
    SOURCE_GROUPS,
    load_codebook,
    load_goals,
    load_study,
)
from csm_helpers.synthetic.sample import MIN_N, generate_sample

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
FILES = ("study.yaml", "responses.csv", "interviews.csv", "codebook.yaml", "goals.yaml", "population.csv",
         "complaints.csv", "lost_reasons.csv", "truth.json", "follow_up_outcomes.csv", "actions_2025-H2.csv")
PHI = stats.norm.cdf


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig")


def read_raw(path: Path) -> pd.DataFrame:
    """Every cell as the text in the file (empty stays empty)."""
    return pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)


def truth_of(folder: Path) -> dict:
    return json.loads((folder / "truth.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- a reference coder
# The codebook's documented rule (see codebook.yaml's header and SPEC §1.2): NFC + casefold;
# keywords of CJK characters match as substrings, other keywords on word boundaries; patterns
# are case-insensitive regular expressions.
_CJK = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff]+$")


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def make_coder(codebook) -> callable:
    rules = []
    for entry in codebook.attributes:
        regexes = []
        for kw in entry.keywords:
            k = _norm(kw)
            regexes.append(re.compile(re.escape(k) if _CJK.match(k) else rf"(?<!\w){re.escape(k)}(?!\w)"))
        regexes += [re.compile(p, re.IGNORECASE) for p in entry.patterns]
        rules.append((entry.id, regexes))

    def code(text: str) -> set[str]:
        t = _norm(text)
        return {aid for aid, regexes in rules if any(r.search(t) for r in regexes)}

    return code


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    return generate_sample(tmp_path_factory.mktemp("regenerated")).parent


@pytest.fixture(scope="module")
def study():
    return load_study(SAMPLE / "study.yaml")


@pytest.fixture(scope="module")
def responses() -> pd.DataFrame:
    return read_csv(SAMPLE / "responses.csv")


@pytest.fixture(scope="module")
def large(tmp_path_factory) -> tuple[pd.DataFrame, dict]:
    folder = generate_sample(tmp_path_factory.mktemp("large"), seed=424242, n=20000).parent
    return read_csv(folder / "responses.csv"), truth_of(folder)


# --------------------------------------------------------------------------- reproducibility
def test_committed_sample_is_what_the_generator_writes(regenerated):
    for name in FILES:
        assert (SAMPLE / name).read_bytes() == (regenerated / name).read_bytes(), (
            f"data/sample/{name} differs from generate_sample(seed=20261123, n=2400): regenerate it")
    stale = sorted(p.name for p in SAMPLE.iterdir()
                   if p.suffix in {".csv", ".yaml", ".yml", ".json"} and p.name not in FILES)
    assert stale == []


def test_same_seed_gives_identical_bytes_and_other_seed_other_data(tmp_path):
    a = generate_sample(tmp_path / "a", seed=11, n=300).parent
    b = generate_sample(tmp_path / "b", seed=11, n=300).parent
    c = generate_sample(tmp_path / "c", seed=12, n=300).parent
    for name in FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    ra, rc = read_raw(a / "responses.csv"), read_raw(c / "responses.csv")
    assert ra.shape == rc.shape
    assert (ra["perf_fees"] != rc["perf_fees"]).mean() > 0.3
    assert (ra["comment"] != rc["comment"]).any()
    assert truth_of(c)["seed"] == 12
    assert load_study(c / "study.yaml").seed == 12


def test_regenerating_leaves_other_files_alone(tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    generate_sample(tmp_path, seed=3, n=MIN_N)
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*FILES, "notes.txt"])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n": 100}, r"n=100 is too few responses — the sample study needs n >= 200"),
    ({"n": 199}, r"n=199 is too few responses"),
    ({"n": 2400.0}, r"n=2400\.0 is not a whole number"),
    ({"n": True}, r"n=True is not a whole number"),
    ({"seed": -1}, r"seed=-1 is not a valid seed — use a non-negative whole number"),
    ({"seed": "abc"}, r"seed='abc' is not a whole number"),
])
def test_bad_arguments_raise_csm_error(tmp_path, kwargs, message):
    with pytest.raises(CsmError, match=message):
        generate_sample(tmp_path, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_out_dir_that_is_a_file_raises(tmp_path):
    target = tmp_path / "taken"
    target.write_text("x", encoding="utf-8")
    with pytest.raises(CsmError, match=r"is an existing file — choose a folder"):
        generate_sample(target, n=MIN_N)


# --------------------------------------------------------------------------- config files
def test_sample_loads_with_config_loaders(study):
    assert study.name == "Retail banking satisfaction 2026"
    assert study.seed == 20261123 and study.language == "en" and study.min_cell_size == 5
    assert len(study.attributes) == 12
    for dim in DIMENSIONS:
        assert sum(a.dimension == dim for a in study.attributes) == 4
    assert all(a.importance and a.expectation for a in study.attributes)
    assert sum(a.competitor is not None for a in study.attributes) >= 6
    assert study.responses.personal_data == ["customer_name", "email", "phone"]
    assert study.satisfaction_items == ["sat_last_contact"]

    goals = load_goals(study)
    assert {k.metric: k.target for k in goals.kpi_targets} == {"csat_top2": 0.8, "csi": 75, "nps": 30}
    assert all(k.deadline and k.owner for k in goals.kpi_targets)
    assert sorted(s.step for s in goals.readiness) == list(range(1, 12))
    assert len({s.status for s in goals.readiness}) >= 3 and all(s.owner for s in goals.readiness)
    sa = goals.self_assessment
    assert sa.preset == "gbt19580"
    assert [(i.id, i.points, i.score) for i in sa.items] == [("4.3.1", 40, 60), ("4.3.2", 50, 50)]
    assert goals.charter.objectives and goals.charter.owners and goals.charter.strategy_links
    assert goals.charter.sponsor and goals.charter.period
    assert all(set(a) == {"report", "audience"} for a in goals.charter.audiences)

    codebook = load_codebook(study)
    ids = [e.id for e in codebook.attributes]
    assert {a.id for a in study.attributes} <= set(ids)
    assert set(ids) - {a.id for a in study.attributes} == {"branch_hours"}
    vi_marks = re.compile("[ăâđêôơưáàảãạéèẻẽẹíìỉĩịóòỏõọúùủũụýỳỷỹỵ]")
    for entry in codebook.attributes:
        kws = entry.keywords
        assert any(re.fullmatch(r"[a-z ']+", k) for k in kws), entry.id
        assert any(vi_marks.search(k) for k in kws), entry.id
        assert any(_CJK.match(k) for k in kws), entry.id
        assert all(k == unicodedata.normalize("NFC", k) for k in kws)
        label = next((a.label for a in study.attributes if a.id == entry.id), entry.label)
        assert entry.label == label


def test_small_study_with_another_seed_loads(tmp_path):
    path = generate_sample(tmp_path, seed=99, n=300)
    study = load_study(path)
    assert load_goals(study) is not None and load_codebook(study) is not None
    data = read_csv(tmp_path / "responses.csv")
    assert len(data) == 300
    assert set(study.rated_items()) <= set(data.columns)
    assert truth_of(tmp_path)["n"] == 300
    assert "seed 99 and n 300" in path.read_text(encoding="utf-8").splitlines()[1]


# --------------------------------------------------------------------------- responses.csv
def test_responses_are_valid_and_realistic(study, responses):
    data, raw = responses, read_raw(SAMPLE / "responses.csv")
    n = len(data)
    assert n >= 2000
    assert data["respondent_id"].is_unique and data["respondent_id"].str.fullmatch(r"R\d{5}").all()
    for col, (lo, hi) in study.rated_items().items():
        values = data[col].dropna()
        assert values.between(lo, hi).all(), col
        assert (values == values.round()).all(), col
        assert raw[col].str.fullmatch(r"\d*").all(), col  # written as integers, no "3.0"
    for col in ["overall_sat", "sat_last_contact", "recommend", "repeat_12m", "wave", "region", "channel"]:
        assert data[col].notna().all(), col
    assert set(data["repeat_12m"]) == {0, 1}
    assert data["recommend"].max() == 10 and data["recommend"].nunique() >= 7

    items = [c for c in data if c.split("_")[0] in {"perf", "imp", "exp", "comp"}]
    assert len(items) == 12 * 3 + sum(a.competitor is not None for a in study.attributes)
    missing = data[items].isna().mean()
    assert missing.between(0.01, 0.055).all() and 0.02 <= missing.mean() <= 0.04

    waves = data["wave"].value_counts(normalize=True)
    assert sorted(waves.index) == ["2025-H2", "2026-H1"] and waves.between(0.45, 0.55).all()
    regions = data["region"].value_counts()
    assert set(regions.index) == {"Hanoi", "Ho Chi Minh City", "Da Nang", "Can Tho"}
    assert regions.max() > 2 * regions.min()
    assert set(data["channel"]) == {"branch", "digital"}

    for col in study.responses.personal_data:
        assert raw[col].str.len().gt(0).all(), col
    assert raw["email"].str.fullmatch(r"[a-z0-9.]+@example\.(com|net|org)").all()
    assert raw["phone"].str.fullmatch(r"0\d{3} \d{3} \d{3}").all()
    assert raw["customer_name"].map(lambda s: s == unicodedata.normalize("NFC", s)).all()

    # No text cell that a spreadsheet would run as a formula (so none was neutralised).
    assert not raw.apply(lambda s: s.str.match(r"[=+\-@']")).any().any()


def test_data_quality_issues_are_present_and_listed(responses):
    data, truth = responses, truth_of(SAMPLE)
    speeders = data.loc[data["duration_s"] < data["duration_s"].median() / 3, "respondent_id"]
    assert sorted(speeders) == sorted(truth["data_quality"]["speeders"])
    assert 0.01 <= len(speeders) / len(data) <= 0.06

    perf = data[[c for c in data if c.startswith("perf_")]]
    flat = perf.notna().all(axis=1) & perf.nunique(axis=1).eq(1)
    assert 3 <= flat.sum() <= 25
    assert sorted(data.loc[flat, "respondent_id"]) == sorted(truth["data_quality"]["straight_liners"])


def test_comments_are_multilingual_and_follow_the_ratings(study, responses):
    data = responses
    code = make_coder(load_codebook(study))
    text = data["comment"].fillna("")
    has = text.ne("")
    assert 0.35 <= has.mean() <= 0.45
    comments = text[has]
    vi = comments.str.contains("[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]")
    zh = comments.str.contains("[\u4e00-\u9fff]")
    assert vi.mean() > 0.08 and zh.mean() > 0.05 and (~vi & ~zh).mean() > 0.6  # mostly English
    assert not comments[zh].str.contains(" ").any()  # Chinese without word spaces

    perf_cols = {a.id: a.performance for a in study.attributes}
    lifts = {"high": [], "low": []}
    for i in np.flatnonzero(has.to_numpy()):
        row = data.iloc[i]
        found = code(row["comment"]) & set(perf_cols)
        assert found, f"comment not coded: {row['comment']!r}"
        mentioned = np.nanmean([row[perf_cols[a]] for a in found])
        own_mean = np.nanmean([row[c] for c in perf_cols.values()])
        if row["overall_sat"] >= 4:
            lifts["high"].append(mentioned - own_mean)
        elif row["overall_sat"] <= 2:
            lifts["low"].append(mentioned - own_mean)
    # Satisfied respondents write about attributes they rated above their own average, and
    # dissatisfied ones about attributes they rated below it.
    assert np.mean(lifts["high"]) > 0.5 and np.mean(lifts["low"]) < -0.5


# --------------------------------------------------------------------------- interviews.csv
def test_interviews_support_discovery(study):
    spec = study.interviews
    iv = read_raw(SAMPLE / spec.file)
    assert len(iv) >= 30 and iv[spec.id].is_unique
    groups = iv[spec.group].value_counts()
    assert set(groups.index) == set(SOURCE_GROUPS)
    assert groups.idxmax() == "customer"
    dates = pd.to_datetime(iv[spec.order], format="%Y-%m-%d")
    assert dates.is_monotonic_increasing and dates.is_unique
    assert set(iv["language"]) == {"en", "vi", "zh"}
    assert not iv.loc[iv["language"] == "zh", spec.text].str.contains(" ").any()

    codebook = load_codebook(study)
    code = make_coder(codebook)
    known = {e.id for e in codebook.attributes}
    seen: set[str] = set()
    new_counts, mentions = [], []
    for _, row in iv.iterrows():
        manual = {c for c in row[spec.codes].split(";") if c}
        assert manual <= known
        found = code(row[spec.text]) | manual
        assert len(found) >= 2, row[spec.id]
        new_counts.append(len(found - seen))
        seen |= found
        mentions.append(found)
    assert seen == known  # every attribute, branch_hours included, comes up in discovery
    assert new_counts[-study.discovery.saturation_k:] == [0] * study.discovery.saturation_k
    assert iv[spec.codes].ne("").sum() >= 3

    side = iv[spec.group].map(lambda g: "company" if g in COMPANY_GROUPS else "customer")
    assert set(iv.loc[side == "customer", spec.group]) == set(CUSTOMER_GROUPS)

    def share(attr: str, which: str) -> float:
        return np.mean([attr in m for m, s in zip(mentions, side, strict=True) if s == which])

    for attr in ("interest_rates", "product_range"):  # the company over-rates these
        assert share(attr, "company") - share(attr, "customer") >= 0.5, attr
    for attr in ("responsiveness", "wait_time"):  # and under-rates these
        assert share(attr, "customer") - share(attr, "company") >= 0.3, attr


# --------------------------------------------------------------------------- other tables
def test_population_differs_from_the_sample_mix(responses):
    pop = read_csv(SAMPLE / "population.csv")
    assert list(pop.columns) == ["segment", "value", "population", "invited"]
    totals = pop.groupby("segment")[["population", "invited"]].sum()
    assert totals.loc["region", "population"] == totals.loc["channel", "population"] == 180_000
    # Both segments count the same invitations; realistic response rates of 10-30%.
    assert totals.loc["region", "invited"] == totals.loc["channel", "invited"]
    assert (pop["invited"] < pop["population"]).all()
    for seg in ("region", "channel"):
        invited = pop[pop["segment"] == seg].set_index("value")["invited"]
        rate = responses[seg].value_counts().reindex(invited.index) / invited
        assert rate.between(0.10, 0.30).all(), (seg, rate.to_dict())
    for seg in ("region", "channel"):
        expected = pop[pop["segment"] == seg].set_index("value")["population"]
        observed = responses[seg].value_counts().reindex(expected.index)
        assert observed.notna().all()
        p = stats.chisquare(observed, expected / expected.sum() * observed.sum()).pvalue
        assert p < 1e-3, seg  # raking has work to do


def test_complaint_log(responses):
    c = read_raw(SAMPLE / "complaints.csv")
    assert list(c.columns) == ["complaint_id", "date", "customer_id", "region", "channel", "category", "valid",
                               "received", "resolved", "sla_days", "outcome", "description"]
    assert 250 <= len(c) <= 350 and c["complaint_id"].is_unique
    assert c["customer_id"].duplicated().sum() >= 10  # repeat complainants
    assert set(c["region"]) <= set(responses["region"]) and set(c["channel"]) <= {"branch", "digital"}
    assert c["category"].nunique() >= 6 and set(c["valid"]) == {"yes", "no"}
    received, resolved = pd.to_datetime(c["received"]), pd.to_datetime(c["resolved"].replace("", None))
    assert (pd.to_datetime(c["date"]) <= received).all()
    assert 0 < resolved.isna().sum() <= 0.1 * len(c)
    assert (resolved.dropna() >= received[resolved.notna()]).all()
    assert resolved.max() <= received.max()  # nothing resolved after the log was extracted
    assert set(c["outcome"]) == {"", "satisfied", "neutral", "dissatisfied"}
    assert (c.loc[resolved.isna(), "outcome"] == "").all()
    assert c["sla_days"].astype(int).gt(0).all() and c["description"].ne("").all()
    days = (resolved - received).dt.days
    assert 0.3 < (days <= c["sla_days"].astype(int)).mean() < 0.95


def test_lost_customer_reasons_differ_from_the_benchmark():
    lost = read_raw(SAMPLE / "lost_reasons.csv")
    assert list(lost.columns) == ["customer_id", "region", "closed_date", "reason", "comment"]
    assert 150 <= len(lost) <= 250 and lost["customer_id"].is_unique
    benchmark = {"died": 0.01, "moved_away": 0.03, "other_relationships": 0.05, "competitor": 0.09,
                 "product_dissatisfaction": 0.14, "staff_indifference": 0.68}
    counts = lost["reason"].value_counts().reindex(list(benchmark), fill_value=0)
    assert counts.sum() == len(lost) and (counts > 0).all()
    expected = np.array(list(benchmark.values())) * len(lost)
    assert stats.chisquare(counts.to_numpy(), expected).pvalue < 0.05
    assert counts.idxmax() == "staff_indifference"  # still the main reason, as in the benchmark
    text = lost["comment"]
    assert text.str.contains("[\u4e00-\u9fff]").any() and text.str.contains("[ơưđ]").any()


# --------------------------------------------------------------------------- ground truth
def _cell_probs(model: dict) -> list[tuple[str, str, str, float]]:
    comp = model["composition"]
    cells = []
    for w, pw in comp["wave"].items():
        for r, pr in comp["region"].items():
            d = comp["digital_given_region"][r]
            cells += [(w, r, "branch", pw * pr * (1 - d)), (w, r, "digital", pw * pr * d)]
    return cells


def _expected_rating(mean: float, sd: float, cuts: list[float], low: int) -> float:
    """E[low + number of cuts below X] for X ~ N(mean, sd) — by the distribution of the rating."""
    edges = np.r_[-np.inf, cuts, np.inf]
    probs = np.diff(PHI((edges - mean) / sd))
    return float(np.dot(probs, low + np.arange(len(probs))))


def _latent_corr(model: dict, dimension: dict[str, str]) -> np.ndarray:
    """corr(z_a, z_b) of the documented factor model: loading_d loading_d' (x phi across dimensions)."""
    lam, phi = model["latent"]["dimension_loading"], model["latent"]["factor_correlation"]
    ids = list(model["attributes"])
    return np.array([[1.0 if a == b else lam[dimension[a]] * lam[dimension[b]]
                      * (1.0 if dimension[a] == dimension[b] else phi) for b in ids] for a in ids])


def _dimensions() -> dict[str, str]:
    return {a.id: a.dimension for a in load_study(SAMPLE / "study.yaml").attributes}


def test_truth_file_is_consistent_with_its_model():
    truth = truth_of(SAMPLE)
    model = truth["model"]
    ids = list(model["attributes"])
    betas = truth["driver_weights"]
    assert list(betas) == ids and all(model["attributes"][a]["beta"] == betas[a] for a in ids)
    R = _latent_corr(model, _dimensions())
    b = np.array([betas[a] for a in ids])
    # Var(y | cell) = beta' R_zz beta + residual^2 = 1, with a realistic latent R^2.
    assert b @ R @ b == pytest.approx(truth["driver_r2"], abs=1e-9)
    assert truth["driver_r2"] + model["overall"]["residual_sd"] ** 2 == pytest.approx(1.0, abs=1e-9)
    assert 0.45 <= truth["driver_r2"] <= 0.65
    r_zy = R @ b
    for a, r in zip(ids, r_zy, strict=True):
        assert truth["driver_correlations"][a] == pytest.approx(r, abs=1e-9), a
    # Johnson relative weights of the latent (z, y) correlation matrix, by the package's own
    # implementation (csm_helpers.analysis.drivers, tested against the rwa R package) — the generator
    # computes them independently.
    full = np.block([[np.ones((1, 1)), r_zy[None, :]], [r_zy[:, None], R]])
    rw = relative_weights(pd.DataFrame(full, index=["y", *ids], columns=["y", *ids]),
                          outcome="y", predictors=ids).set_index("predictor")["raw_weight"]
    for a in ids:
        assert truth["driver_relative_weights"][a] == pytest.approx(rw[a], abs=1e-9), a
    assert sum(truth["driver_relative_weights"].values()) == pytest.approx(truth["driver_r2"], abs=1e-9)
    # Three clearly distinct strong drivers, by the betas and by the relative weights.
    by_beta = sorted(ids, key=betas.get, reverse=True)
    by_rw = rw.sort_values(ascending=False)
    assert list(by_rw.index[:3]) == by_beta[:3]
    assert by_rw.iloc[2] >= 1.5 * by_rw.iloc[3]
    top = sorted(betas.values(), reverse=True)
    assert top[0] >= 0.3 and top[2] - top[3] >= 0.05
    assert truth["segment_effects"]["region"] == model["overall"]["shift"]["region"]
    # mean_gaps from the model parameters, by the rating distribution of each cell.
    cells = _cell_probs(model)
    for aid, par in model["attributes"].items():
        shift = par["performance_shift"]
        perf = sum(p * _expected_rating(par["performance_location"] + shift["wave"][w] + shift["region"][r]
                                        + shift["channel"][c], par["performance_sd"], model["cuts"], 1)
                   for w, r, c, p in cells)
        expect = _expected_rating(par["expectation_location"], par["expectation_sd"], model["cuts"], 1)
        assert truth["mean_gaps"][aid] == pytest.approx(perf - expect, abs=1e-8), aid


def _population_rating_moments(model: dict, dimension: dict[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """Mixture covariance of (12 performance ratings, overall_sat) and of the 12 performance latents.

    Independent of the generator: each cell's joint rating distribution is built from scipy's
    bivariate normal CDF on the grid of cut points (rectangle probabilities), not from
    Plackett's identity.
    """
    ids = list(model["attributes"])
    k = len(ids)
    R = _latent_corr(model, dimension)
    b = np.array([model["attributes"][a]["beta"] for a in ids])
    rho = np.eye(k + 1)
    rho[:k, :k], rho[:k, k], rho[k, :k] = R, R @ b, R @ b
    cells = _cell_probs(model)
    y_shift = model["overall"]["shift"]
    sds = np.array([model["attributes"][a]["performance_sd"] for a in ids] + [1.0])
    cuts = [model["cuts"]] * k + [model["overall"]["cuts"]]
    m1, m2 = np.zeros(k + 1), np.zeros((k + 1, k + 1))
    l1, l2 = np.zeros(k), np.zeros((k, k))
    for w, r, c, p in cells:
        locs = []
        for a in ids:
            sh = model["attributes"][a]["performance_shift"]
            locs.append(model["attributes"][a]["performance_location"] + sh["wave"][w] + sh["region"][r]
                        + sh["channel"][c])
        locs.append(y_shift["wave"][w] + y_shift["region"][r] + y_shift["channel"][c])
        locs = np.array(locs)
        edges = [np.clip((np.r_[-np.inf, cuts[v], np.inf] - locs[v]) / sds[v], -30, 30) for v in range(k + 1)]
        probs = [np.diff(PHI(e)) for e in edges]  # P(rating = 1..5)
        for u in range(k + 1):
            m1[u] += p * np.dot(probs[u], 1 + np.arange(5))
            m2[u, u] += p * np.dot(probs[u], (1 + np.arange(5)) ** 2)
            for v in range(u + 1, k + 1):
                gx, gy = np.meshgrid(edges[u], edges[v], indexing="ij")
                F = stats.multivariate_normal(mean=[0, 0], cov=[[1, rho[u, v]], [rho[u, v], 1]]).cdf(
                    np.stack([gx, gy], axis=-1))
                pmf = F[1:, 1:] - F[:-1, 1:] - F[1:, :-1] + F[:-1, :-1]
                m2[u, v] += p * float(np.sum(pmf * np.outer(1 + np.arange(5), 1 + np.arange(5))))
        l1 += p * locs[:k]
        l2 += p * (np.outer(sds[:k], sds[:k]) * R + np.outer(locs[:k], locs[:k]))
    m2 = np.triu(m2) + np.triu(m2, 1).T
    return m2 - np.outer(m1, m1), l2 - np.outer(l1, l1)


def _cronbach(cov: np.ndarray) -> float:
    k = len(cov)
    return k / (k - 1) * (1 - np.trace(cov) / cov.sum())


def test_reliability_and_observed_driver_truths_are_consistent_with_the_model():
    truth = truth_of(SAMPLE)
    model = truth["model"]
    dimension = _dimensions()
    ids = list(model["attributes"])
    cov, latent = _population_rating_moments(model, dimension)
    for dim, rel in truth["reliability"].items():
        assert rel["items"] == [f"perf_{a}" for a in dimension if dimension[a] == dim]  # study order
        idx = [ids.index(item.removeprefix("perf_")) for item in rel["items"]]
        assert rel["alpha"] == pytest.approx(_cronbach(cov[np.ix_(idx, idx)]), abs=1e-8), dim
        assert rel["latent_alpha"] == pytest.approx(_cronbach(latent[np.ix_(idx, idx)]), abs=1e-8), dim
        assert 0.75 <= rel["alpha"] < rel["latent_alpha"] <= 0.9, dim  # coarsening lowers alpha
    sd = np.sqrt(np.diag(cov))
    corr = pd.DataFrame(cov / np.outer(sd, sd), index=[*ids, "overall_sat"], columns=[*ids, "overall_sat"])
    obs = truth["observed_drivers"]
    fit = np.linalg.solve(corr.loc[ids, ids], corr.loc[ids, "overall_sat"])
    rw = relative_weights(corr, outcome="overall_sat", predictors=ids).set_index("predictor")["raw_weight"]
    for j, a in enumerate(ids):
        assert obs["correlations"][a] == pytest.approx(corr.loc[a, "overall_sat"], abs=1e-8), a
        assert obs["driver_weights"][a] == pytest.approx(fit[j], abs=1e-8), a
        assert obs["driver_relative_weights"][a] == pytest.approx(rw[a], abs=1e-8), a
        # The 1-5 scale attenuates every correlation with overall satisfaction.
        assert obs["correlations"][a] < truth["driver_correlations"][a], a
    assert obs["r2"] == pytest.approx(float(corr.loc[ids, "overall_sat"] @ fit), abs=1e-8)
    assert obs["r2"] < truth["driver_r2"]
    top3 = sorted(truth["driver_weights"], key=truth["driver_weights"].get, reverse=True)[:3]
    assert sorted(obs["driver_relative_weights"], key=obs["driver_relative_weights"].get, reverse=True)[:3] == top3


def test_bundled_sample_has_realistic_reliability(study, responses):
    """Cronbach's alpha (pingouin, listwise) of each dimension's performance items is in the usual
    CSM range and close to the population value (the straight-liners raise it slightly)."""
    import pingouin as pg

    truth = truth_of(SAMPLE)
    for dim in DIMENSIONS:
        items = [a.performance for a in study.attributes if a.dimension == dim]
        assert items == truth["reliability"][dim]["items"]
        alpha, _ = pg.cronbach_alpha(data=responses[items].dropna())
        assert 0.75 <= alpha <= 0.88, (dim, alpha)
        assert abs(alpha - truth["reliability"][dim]["alpha"]) < 0.03, (dim, alpha)


def test_true_drivers_are_recovered_by_ols(large):
    data, truth = large
    data = data[~data["respondent_id"].isin(truth["data_quality"]["straight_liners"])]
    perf = [f"perf_{a}" for a in truth["driver_weights"]]
    cc = data[perf + ["overall_sat"]].dropna().astype(float)
    z = (cc - cc.mean()) / cc.std()
    fit = sm.OLS(z["overall_sat"], z[perf]).fit()
    estimated = fit.params.rename(lambda c: c.removeprefix("perf_")).sort_values(ascending=False)
    se = fit.bse.rename(lambda c: c.removeprefix("perf_"))
    true_top3 = sorted(truth["driver_weights"], key=truth["driver_weights"].get, reverse=True)[:3]
    assert list(estimated.index[:3]) == true_top3
    # The standardised OLS coefficients of the 1-5 ratings estimate their population values
    # (observed_drivers, from the exact joint distribution of the ratings); the strong drivers'
    # are attenuated versions of the latent betas.
    for a, beta in truth["observed_drivers"]["driver_weights"].items():
        assert abs(estimated[a] - beta) < 4 * se[a], (a, estimated[a], beta)
    for a in true_top3:
        assert 0.6 * truth["driver_weights"][a] < estimated[a] < truth["driver_weights"][a], a
    r = cc[perf].corrwith(cc["overall_sat"]).rename(lambda c: c.removeprefix("perf_"))
    for a, rho in truth["observed_drivers"]["correlations"].items():
        assert abs(r[a] - rho) < 4 * (1 - rho**2) / np.sqrt(len(cc)), (a, r[a], rho)


def test_reliability_of_a_large_sample_matches_the_truth(large):
    import pingouin as pg

    data, truth = large
    data = data[~data["respondent_id"].isin(truth["data_quality"]["straight_liners"])]
    for dim, rel in truth["reliability"].items():
        alpha, (lo, hi) = pg.cronbach_alpha(data=data[rel["items"]].dropna(), ci=0.999)
        assert lo <= rel["alpha"] <= hi, (dim, alpha, rel["alpha"])


def test_mean_gaps_match_the_data(large):
    data, truth = large
    data = data[~data["respondent_id"].isin(truth["data_quality"]["straight_liners"])]
    for aid, gap in truth["mean_gaps"].items():
        diff = (data[f"perf_{aid}"] - data[f"exp_{aid}"]).dropna()
        se = diff.std() / np.sqrt(len(diff))
        assert abs(diff.mean() - gap) < 4 * se, (aid, diff.mean(), gap)


def test_overall_satisfaction_by_region_matches_the_analytic_mean(large):
    data, truth = large
    model = truth["model"]
    shift, cuts = model["overall"]["shift"], model["overall"]["cuts"]
    cells = _cell_probs(model)
    for region, group in data.groupby("region"):
        in_region = [(w, c, p) for w, r, c, p in cells if r == region]
        total = sum(p for *_, p in in_region)
        # y | cell ~ N(shift, 1): Var(y | cell) = sum beta^2 + residual^2 = 1.
        expected = sum(p * _expected_rating(shift["wave"][w] + shift["region"][region] + shift["channel"][c],
                                            1.0, cuts, 1) for w, c, p in in_region) / total
        assert truth["kpis"]["by_region"][region]["overall_mean"] == pytest.approx(expected, abs=1e-8)
        se = group["overall_sat"].std() / np.sqrt(len(group))
        assert abs(group["overall_sat"].mean() - expected) < 4 * se, region
    # Headline KPIs of the whole sample against the truth, with binomial/normal SEs.
    k = truth["kpis"]
    top2 = (data["overall_sat"] >= 4).mean()
    assert abs(top2 - k["csat_top2"]) < 4 * np.sqrt(k["csat_top2"] * (1 - k["csat_top2"]) / len(data))
    promoters, detractors = (data["recommend"] >= 9).mean(), (data["recommend"] <= 6).mean()
    nps_se = 100 * np.sqrt((promoters + detractors - (promoters - detractors) ** 2) / len(data))
    assert abs(100 * (promoters - detractors) - k["nps"]) < 4 * nps_se


# --------------------------------------------------------------------------- market and loyalty items
MARKET_COLS = ("praise_us", "aware_unaided", "referred")
LOYALTY_COLS = ("price_sensitivity", "competitor_attitude", "incident_tolerance")
QUADRANTS = ("Loyalty", "Latent loyalty", "Spurious loyalty", "No loyalty")


def test_market_and_loyalty_items_are_valid_and_follow_satisfaction(study, responses):
    data, raw = responses, read_raw(SAMPLE / "responses.csv")
    assert (study.market.praise, study.market.awareness, study.market.referral) == MARKET_COLS
    assert (study.loyalty.repeat, study.loyalty.price_sensitivity, study.loyalty.competitor_attitude,
            study.loyalty.incident_tolerance) == ("repeat_12m", *LOYALTY_COLS)
    assert (study.market.sales_growth, study.market.customers, study.market.customers_new,
            study.market.customers_lost) == (0.04, 180_000, 21_000, 15_300)
    assert study.complaints.file == "complaints.csv" and study.lost_customers.file == "lost_reasons.csv"
    for col in MARKET_COLS:
        assert set(raw[col]) == {"0", "1"}, col
    for col in LOYALTY_COLS:
        assert raw[col].str.fullmatch(r"[1-5]?").all(), col
        assert 0.005 <= data[col].isna().mean() <= 0.04, col
        assert data[col].nunique() == 5, col
    satisfied = data["overall_sat"] >= 4
    for col in ("praise_us", "referred", "aware_unaided", "repeat_12m", "incident_tolerance"):
        assert data.loc[satisfied, col].mean() > data.loc[~satisfied, col].mean(), col
    for col in ("price_sensitivity", "competitor_attitude"):
        assert data.loc[satisfied, col].mean() < data.loc[~satisfied, col].mean(), col


def _trapezoid_over_y(f, m: float, lower: float = -np.inf) -> float:
    """E[f(y) 1{y > lower}], y ~ N(m, 1), by the trapezoid rule on a fine grid (not quadrature)."""
    y = np.linspace(max(lower, m - 10.0), m + 10.0, 200_001)
    return float(np.trapezoid(f(y) * stats.norm.pdf(y - m), y))


def test_market_and_loyalty_truths_are_consistent_with_their_model():
    truth = truth_of(SAMPLE)
    model = truth["model"]
    shift = model["overall"]["shift"]
    cells = _cell_probs(model)
    rep, rec = model["repeat_12m"], model["recommend"]
    repeat_p = lambda y: 1 / (1 + np.exp(-(rep["intercept"] + rep["slope"] * y)))  # noqa: E731
    threshold = (8.5 - rec["location"]) / rec["scale"]
    promoter_p = lambda y: PHI((rec["loading"] * y - threshold) / rec["noise_loading"])  # noqa: E731
    top2_cut = model["overall"]["cuts"][2]
    acc = {k: 0.0 for k in ("repeat", "promoter", "top2", "both_rec", "both_top2", *MARKET_COLS)}
    agree = dict.fromkeys(LOYALTY_COLS, 0.0)
    for w, r, c, p in cells:
        m = shift["wave"][w] + shift["region"][r] + shift["channel"][c]
        for col in MARKET_COLS:
            par = model["market_items"][col]
            acc[col] += p * PHI(par["intercept"] + par["loading"] * m)
        for col in LOYALTY_COLS:
            par = model["loyalty_items"][col]
            agree[col] += p * (1 - PHI((3.5 - par["location"] - par["sd"] * par["loading"] * m) / par["sd"]))
        acc["repeat"] += p * _trapezoid_over_y(repeat_p, m)
        acc["promoter"] += p * _trapezoid_over_y(promoter_p, m)
        acc["top2"] += p * (1 - PHI(top2_cut - m))
        acc["both_rec"] += p * _trapezoid_over_y(lambda y: promoter_p(y) * repeat_p(y), m)
        acc["both_top2"] += p * _trapezoid_over_y(repeat_p, m, lower=top2_cut)
    for col in MARKET_COLS:
        assert truth["market"][col] == pytest.approx(acc[col], abs=1e-9), col
    for col in LOYALTY_COLS:
        assert truth["loyalty"]["agree"][col] == pytest.approx(agree[col], abs=1e-9), col
    loyalty = truth["loyalty"]
    assert loyalty["repeat_12m"] == pytest.approx(acc["repeat"], abs=1e-7)
    for attitude, both, high in (("recommend", acc["both_rec"], acc["promoter"]),
                                 ("overall", acc["both_top2"], acc["top2"])):
        q = loyalty["dick_basu"][attitude]
        assert list(q) == sorted(QUADRANTS) and sum(q.values()) == pytest.approx(1.0, abs=1e-9)
        assert q["Loyalty"] == pytest.approx(both, abs=1e-7)
        assert q["Latent loyalty"] == pytest.approx(high - both, abs=1e-7)
        assert q["Spurious loyalty"] == pytest.approx(acc["repeat"] - both, abs=1e-7)
    assert loyalty["acquisition_rate"] == pytest.approx(21_000 / 180_000)
    assert loyalty["churn_rate"] == pytest.approx(15_300 / 180_000)
    assert truth["market"]["figures"] == {"sales_growth": 0.04, "customers": 180_000, "customers_new": 21_000,
                                          "customers_lost": 15_300}


def test_market_and_loyalty_items_match_their_truth(large):
    data, truth = large
    n = len(data)

    def close(observed: pd.Series, p: float, what: str) -> None:
        observed = observed.dropna()
        se = np.sqrt(p * (1 - p) / len(observed))
        assert abs(observed.mean() - p) < 4 * se, (what, observed.mean(), p)

    for col in MARKET_COLS:
        close(data[col], truth["market"][col], col)
        for region, group in data.groupby("region"):
            close(group[col], truth["market"]["by_region"][region][col], (col, region))
    close(data["repeat_12m"], truth["loyalty"]["repeat_12m"], "repeat_12m")
    for col in LOYALTY_COLS:
        close(data[col].dropna() >= 4, truth["loyalty"]["agree"][col], col)
        assert data[col].isna().mean() == pytest.approx(truth["loyalty"]["missing_rate"][col], abs=0.006)
    high_rec, high_top2 = data["recommend"] >= 9, data["overall_sat"] >= 4
    rep = data["repeat_12m"] == 1
    for attitude, high in (("recommend", high_rec), ("overall", high_top2)):
        q = truth["loyalty"]["dick_basu"][attitude]
        observed = {"Loyalty": high & rep, "Latent loyalty": high & ~rep, "Spurious loyalty": ~high & rep,
                    "No loyalty": ~high & ~rep}
        for name, mask in observed.items():
            close(mask.astype(float), q[name], (attitude, name))
    assert n == 20000


def test_population_truth_matches_the_file_and_the_response_counts(responses):
    truth = truth_of(SAMPLE)["population"]
    pop = read_csv(SAMPLE / "population.csv")
    n = len(responses)
    for row in pop.itertuples(index=False):
        assert truth["invited"][row.segment][row.value] == row.invited
        assert truth["population"][row.segment][row.value] == row.population
        expected = truth["expected_respondents"][row.segment][row.value]
        assert truth["expected_response_rate"][row.segment][row.value] == pytest.approx(expected / row.invited)
        observed = int((responses[row.segment] == row.value).sum())
        p = expected / n
        assert abs(observed - expected) < 4 * np.sqrt(n * p * (1 - p)), (row.segment, row.value)


def test_complaint_and_lost_logs_are_consistent_with_their_truth():
    truth = truth_of(SAMPLE)
    c = read_raw(SAMPLE / "complaints.csv")
    tc = truth["complaints"]
    assert len(c) == tc["n"] == 300
    assert c["customer_id"].nunique() == tc["distinct_customers"] == 255
    probs = tc["category_probs"]
    assert sum(probs.values()) == pytest.approx(1.0)
    counts = c["category"].value_counts().reindex(list(probs), fill_value=0)
    assert counts.sum() == len(c)
    assert stats.chisquare(counts.to_numpy(), np.array(list(probs.values())) * len(c)).pvalue > 1e-3
    valid = (c["valid"] == "yes").mean()
    assert abs(valid - tc["valid_prob"]) < 4 * np.sqrt(tc["valid_prob"] * (1 - tc["valid_prob"]) / len(c))
    sla = c["sla_days"].astype(int)
    assert (sla[c["category"] == "transaction error"] == 3).all() and (sla[c["category"] != "transaction error"] == 7).all()
    assert tc["complaints_per_1000_customers"] == pytest.approx(1000 * 300 / 180_000)
    assert pd.to_datetime(c["received"]).max() <= pd.Timestamp(tc["extracted_on"])

    lost = read_raw(SAMPLE / "lost_reasons.csv")
    tl = truth["lost_customers"]
    assert len(lost) == tl["n"] == 200
    probs = tl["reason_probs"]
    counts = lost["reason"].value_counts().reindex(list(probs), fill_value=0)
    assert counts.sum() == len(lost)
    assert stats.chisquare(counts.to_numpy(), np.array(list(probs.values())) * len(lost)).pvalue > 1e-3
