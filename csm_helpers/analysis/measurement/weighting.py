"""Weights: raking to population margins (Deming & Stephan 1940, iterative proportional fitting, per wave) and their summary with Kish's (1965) effective sample size and design effect."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.analysis.measurement.common import (
    POPULATION_FILE,
    population_rows,
    preview_values,
    require_columns,
    value_codes,
    value_key,
    value_keys,
)
from csm_helpers.analysis.stats import WEIGHT_COLUMN, get_weights, kish_neff
from csm_helpers.core.checks import check_frame
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.core.i18n import N_
from csm_helpers.study.config import Study

__all__ = ["margins_from_population", "rake", "weight_summary", "weights_table", "study_weights"]


# --------------------------------------------------------------------------- weights
def margins_from_population(population: pd.DataFrame, *,
                            segments: Sequence[str] | None = None) -> dict[str, dict[str, float]]:
    """Population shares per segment, the ``margins`` of :func:`rake`.

    Parameters
    ----------
    population : pandas.DataFrame
        The population table (``segment, value, population``).
    segments : sequence of str, optional
        Which segments; default every segment of the table, in table order.

    Returns
    -------
    dict
        ``{segment: {value: share}}``, shares summing to 1 per segment (values as text).

    Examples
    --------
    >>> from csm_helpers.study.datasets import read_dataset
    >>> m = margins_from_population(read_dataset("population"))
    >>> {k: round(v, 2) for k, v in m["channel"].items()}
    {'branch': 0.55, 'digital': 0.45}
    """
    check_frame(population, POPULATION_FILE)
    require_columns(population, ["segment", "value", "population"], what=POPULATION_FILE,
                     fix="the population table needs the columns segment, value, population")
    if segments is None:
        segments = [s for s in dict.fromkeys(value_keys(population["segment"])) if s is not None]
    out: dict[str, dict[str, float]] = {}
    for seg in segments:
        rows = population_rows(population, seg)
        shares = rows["population"].to_numpy(float) / rows["population"].sum()
        out[seg] = dict(zip(rows["key"].tolist(), shares.tolist(), strict=True))
    return out


def rake(data: pd.DataFrame, *, margins: Mapping[str, Mapping[Any, float]],
         base_weights: str | None = None, max_iter: int = 1000, tol: float = 1e-10) -> pd.Series:
    """Raking weights by iterative proportional fitting (SPEC §1.3).

    Deming, W. E., & Stephan, F. F. (1940). On a least squares adjustment of a sampled
    frequency table when the expected marginal totals are known. *Annals of Mathematical
    Statistics*, 11(4), 427–444.

    Starting from the base weights (or 1), each pass multiplies the weights of every
    respondent in category ``c`` of variable ``v`` by ``target share / weighted share`` of
    ``c``, variable after variable, until every weighted share is within ``tol`` of its
    target. With one variable this is post-stratification. Respondents with no value of a
    variable keep their weight in that variable's step, so its margin holds among the
    respondents whose value is known. The weights are scaled to mean 1 (sum = n).

    Implemented here (vectorised with ``numpy.bincount``) rather than taken from a library:
    ``ipfn`` (last release 2021) works on aggregated tables; ``weightipy`` 0.4 ignores base
    weights, skips empty categories silently and only prints when it does not converge;
    ``samplics`` is archived; ``balance`` pins numpy < 2 on Python 3.11.

    Parameters
    ----------
    data : pandas.DataFrame
        The responses.
    margins : dict
        ``{column: {value: population share or count}}``; each variable's targets are
        normalised to shares. Values are matched as text.
    base_weights : str, optional
        Column of design weights to start from.
    max_iter : int
        Most passes over the variables.
    tol : float
        Largest allowed difference between a weighted share and its target.

    Returns
    -------
    pandas.Series
        The weights, indexed like ``data``, named :data:`csm_helpers.analysis.stats.WEIGHT_COLUMN`.

    Raises
    ------
    DataError
        When a column is missing, a margin is not a positive number, or the data has a value
        the margins do not list.
    CsmError
        When a category with a positive target has no respondent (raking is impossible:
        collapse categories), or the weights do not converge within ``max_iter`` passes.

    Examples
    --------
    >>> df = pd.DataFrame({"sex": ["f", "f", "m", "m", "m", "m"], "age": ["y", "o", "y", "o", "o", "o"]})
    >>> w = rake(df, margins={"sex": {"f": 0.5, "m": 0.5}, "age": {"y": 0.4, "o": 0.6}})
    >>> round(float(w[df["sex"] == "f"].sum() / w.sum()), 6), round(float(w[df["age"] == "y"].sum() / w.sum()), 6)
    (0.5, 0.4)
    >>> round(float(w.mean()), 12)
    1.0
    """
    check_frame(data)
    if not isinstance(margins, Mapping) or not margins:
        raise CsmError("The value for `margins` must be a non-empty dict {column: {value: share}}, "
                       f"but {margins!r} was passed.")
    if not (isinstance(max_iter, int | np.integer) and max_iter >= 1):
        raise CsmError(f"The value for `max_iter` must be a whole number >= 1, but {max_iter!r} was passed.")
    if not (isinstance(tol, int | float | np.number) and tol > 0):
        raise CsmError(f"The value for `tol` must be a number > 0, but {tol!r} was passed.")
    require_columns(data, list(margins), what="data",
                     fix="rake only on segment columns of the responses (check the population table's segments)")
    n = len(data)
    if n == 0:
        raise CsmError("raking needs at least one respondent; the data has no rows")
    w = get_weights(data, base_weights).copy()
    codes_list: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    for var, margin in margins.items():
        if not isinstance(margin, Mapping) or not margin:
            raise DataError(f"margins[{var!r}] must be a non-empty dict {{value: share}}, found {margin!r}")
        mkeys = [value_key(k) for k in margin]
        if None in mkeys:
            raise DataError(f"margins[{var!r}] has a missing value as a category — name every category")
        dup = sorted({k for k in mkeys if mkeys.count(k) > 1}, key=str)
        if dup:
            raise DataError(f"margins[{var!r}] lists the value {preview_values(dup)} twice — give each value once")
        vals = np.array([float(v) if isinstance(v, int | float | np.number) else np.nan
                         for v in margin.values()])
        if not np.all(np.isfinite(vals)) or np.any(vals < 0) or vals.sum() <= 0:
            raise DataError(f"margins[{var!r}] must hold population shares or counts >= 0 with a positive "
                            f"total; found {dict(zip(mkeys, margin.values(), strict=True))} — fix the "
                            f"population of {var!r} in {POPULATION_FILE}")
        share = vals / vals.sum()
        # position of each respondent's value among the margin's values; -1: missing, -2: unknown
        codes, _ = value_codes(data[var], mkeys)
        unknown = codes == -2
        if unknown.any():
            _, found = value_codes(data[var])
            extra = sorted(k for k in found if k not in set(mkeys))
            raise DataError(
                f"column {var!r} has the value {preview_values(extra)} that the raking margins (from "
                f"{POPULATION_FILE}) do not list (they list {preview_values(mkeys, 10)}) — add a row "
                f"'{var},{extra[0]},<population>' to {POPULATION_FILE} or fix the value in the data"
            )
        known = codes >= 0
        base_total = np.bincount(codes[known], weights=w[known], minlength=len(mkeys))
        empty = (share > 0) & (base_total <= 0)
        if empty.any():
            names = [mkeys[i] for i in np.flatnonzero(empty)]
            raise CsmError(
                f"raking is impossible: no respondent (with a positive base weight) has {var} = "
                f"{preview_values(names)}, which is {share[empty].sum():.1%} of the population — collapse it "
                f"with a neighbouring category in {POPULATION_FILE} and in the data, or drop {var!r} "
                "from the raking"
            )
        zero_target = (share == 0) & (base_total > 0)
        if zero_target.any():
            names = [mkeys[i] for i in np.flatnonzero(zero_target)]
            raise DataError(
                f"{POPULATION_FILE} gives {var} = {preview_values(names)} a population of 0, but respondents have "
                "that value — correct the population or the data"
            )
        # the respondents with a value (all of them: slice) and their codes, found once
        rows = slice(None) if known.all() else np.flatnonzero(known)
        codes_list.append((rows, codes[rows]))
        targets.append(share)

    names = list(margins)

    def worst(weights: np.ndarray) -> tuple[float, str]:
        gap, where = 0.0, ""
        for var, (rows, codes), share in zip(names, codes_list, targets, strict=True):
            tot = np.bincount(codes, weights=weights[rows], minlength=len(share))
            d = np.abs(tot / tot.sum() - share)
            i = int(np.argmax(d))
            if d[i] > gap:
                gap, where = float(d[i]), var
        return gap, where

    for _iteration in range(int(max_iter)):
        for (rows, codes), share in zip(codes_list, targets, strict=True):
            tot = np.bincount(codes, weights=w[rows], minlength=len(share))
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = np.where(tot > 0, share * tot.sum() / tot, 1.0)
            w[rows] *= factor[codes]
        gap, _where = worst(w)
        if gap <= tol:
            break
    else:
        gap, where = worst(w)
        raise CsmError(
            f"raking did not converge in {max_iter} passes: the weighted shares of {where!r} are still "
            f"{gap:.2g} away from the population margins — the margins may be inconsistent with the "
            "sample (a combination of categories no respondent has); collapse sparse categories, rake on "
            "fewer variables, or raise measurement.rake_max_iter in study.yaml"
        )
    total = w.sum()
    w = w * (n / total)
    return pd.Series(w, index=data.index, name=WEIGHT_COLUMN, dtype="float64")


def _weights_array(w: Any) -> np.ndarray:
    arr = np.asarray(w.to_numpy() if isinstance(w, pd.Series) else w, dtype=float).ravel()
    if arr.size == 0:
        raise CsmError("no weights: the weights are empty")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or arr.sum() <= 0:
        raise CsmError("weights must be finite numbers >= 0 with a positive total")
    return arr


def weight_summary(w: pd.Series | np.ndarray | Sequence[float]) -> dict[str, float]:
    """Summary of a set of weights: Kish's effective n and design effect (SPEC §1.3).

    ``n_eff = (sum w)^2 / sum w^2`` and ``deff = n / n_eff`` (Kish, 1965, §11.7); ``cv`` is the
    coefficient of variation of the weights with the population standard deviation
    (``ddof=0``), so that ``deff = 1 + cv^2`` exactly.

    Returns
    -------
    dict
        ``n`` (int), ``n_eff``, ``deff``, ``min``, ``max``, ``mean``, ``cv`` and ``ratio``
        (max / min; inf when a weight is 0).

    Examples
    --------
    >>> s = weight_summary([1, 1, 1, 3])
    >>> s["n"], s["n_eff"], round(s["deff"], 4)
    (4, 3.0, 1.3333)
    """
    arr = _weights_array(w)
    n = int(arr.size)
    neff = kish_neff(arr)
    mean = float(arr.mean())
    lo, hi = float(arr.min()), float(arr.max())
    return {"n": n, "n_eff": neff, "deff": n / neff, "min": lo, "max": hi, "mean": mean,
            "cv": float(arr.std(ddof=0) / mean), "ratio": hi / lo if lo > 0 else math.inf}


def weights_table(w: pd.Series | np.ndarray | Sequence[float]) -> pd.DataFrame:
    """:func:`weight_summary` as a table for the report: ``statistic, value, meaning``.

    Examples
    --------
    >>> weights_table([1, 1, 1, 3])["statistic"].tolist()
    ['n', 'n_eff', 'deff', 'min', 'max', 'cv', 'ratio']
    """
    s = weight_summary(w)
    meaning = {
        "n": N_("respondents"),
        "n_eff": N_("Kish effective sample size (sum w)^2 / sum w^2: intervals are as wide as with this many "
                    "unweighted respondents"),
        "deff": N_("design effect of weighting, n / n_eff"),
        "min": N_("smallest weight (weights scaled to mean 1 when raked)"),
        "max": N_("largest weight"),
        "cv": N_("coefficient of variation of the weights (deff = 1 + cv^2)"),
        "ratio": N_("largest / smallest weight"),
    }
    return pd.DataFrame({"statistic": list(meaning), "value": [float(s[k]) for k in meaning],
                         "meaning": list(meaning.values())})


def study_weights(data: pd.DataFrame, study: Study, *,
                  population: pd.DataFrame | None = None) -> pd.Series | None:
    """The study's weights: the weight column, else raking weights, else None (SPEC §1.3).

    - ``responses.weight`` set: that column, as given (not rescaled);
    - else, when ``measurement.rake`` is true and the population table has rows for one or
      more of ``responses.segments`` present in the data: :func:`rake` on those segments
      (``measurement.rake_max_iter`` and ``rake_tol``), **each wave on its own** (the column
      ``responses.wave``; responses without a wave form one more group), weights of mean 1
      within each wave. Every wave is reported on its own, so every wave must match the
      population margins: raked over the waves pooled, the latest wave alone missed them (Can
      Tho 13.97 % against 13 %). A category that has no respondent in a wave cannot be raked
      to in that wave: it is left out of that wave's margins (the others' shares rescaled)
      and named in ``attrs["missing"]`` (``{wave: [variable=value, ...]}``);
    - else None (unweighted).

    Compute on the whole sample (after the exclusions); a segment report subsets the result.

    Returns
    -------
    pandas.Series or None
        Indexed like ``data``, named :data:`csm_helpers.analysis.stats.WEIGHT_COLUMN`.

    Examples
    --------
    >>> from csm_helpers.study.config import load_study
    >>> from csm_helpers.study.datasets import read_dataset, sample_study_path
    >>> w = study_weights(read_dataset("responses"), load_study(sample_study_path()),
    ...                   population=read_dataset("population"))
    >>> len(w), round(float(w.mean()), 6)
    (2400, 1.0)
    >>> latest = read_dataset("responses")["wave"] == "2026-H1"
    >>> hanoi = read_dataset("responses")["region"] == "Hanoi"
    >>> round(float(w[latest & hanoi].sum() / w[latest].sum()), 6)  # Hanoi is 29 % of the customers
    0.29
    """
    check_frame(data)
    spec = study.responses
    if spec.weight:
        return pd.Series(get_weights(data, spec.weight), index=data.index, name=WEIGHT_COLUMN, dtype="float64")
    if population is None or not study.measurement.rake:
        return None
    check_frame(population, POPULATION_FILE)
    require_columns(population, ["segment", "value", "population"], what=POPULATION_FILE,
                     fix="the population table needs the columns segment, value, population")
    in_table = set(value_keys(population["segment"]).dropna())
    segments = [s for s in spec.segments if s in in_table and s in data.columns]
    if not segments:
        return None
    margins = margins_from_population(population, segments=segments)
    settings = {"max_iter": study.measurement.rake_max_iter, "tol": study.measurement.rake_tol}
    if not spec.wave or spec.wave not in data.columns:
        return rake(data, margins=margins, **settings)
    everywhere = {var: set(value_keys(data[var]).dropna()) for var in margins}
    if any(v > 0 and k not in everywhere[var] for var, m_ in margins.items() for k, v in m_.items()):
        return rake(data, margins=margins, **settings)  # raises: no respondent in any wave has that value
    out = np.full(len(data), np.nan)
    missing: dict[str, list[str]] = {}
    codes, labels = pd.factorize(data[spec.wave].astype("string"), use_na_sentinel=True)
    for code in range(-1, len(labels)):
        pos = np.flatnonzero(codes == code)
        if not len(pos):
            continue
        part = data.iloc[pos]
        present = {var: set(value_keys(part[var]).dropna()) for var in margins}
        kept = {var: {k: v for k, v in m_.items() if k in present[var]} for var, m_ in margins.items()}
        gone = [f"{var}={k}" for var, m_ in margins.items() for k, v in m_.items()
                if v > 0 and k not in present[var]]
        if gone:
            missing[str(labels[code]) if code >= 0 else "(no wave)"] = gone
        kept = {var: m_ for var, m_ in kept.items() if m_}
        out[pos] = rake(part, margins=kept, **settings).to_numpy() if kept else 1.0
    weights = pd.Series(out, index=data.index, name=WEIGHT_COLUMN, dtype="float64")
    weights.attrs["missing"] = missing
    weights.attrs["by_wave"] = True
    return weights
