"""Importance–performance analysis (Martilla & James 1977): the quadrants, and the bootstrap probability that an attribute sits in its quadrant."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from csm_helpers.analysis.stats import get_weights
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.core.i18n import N_, _

if TYPE_CHECKING:  # pragma: no cover
    pass
from csm_helpers.analysis.drivers.bootstrap import (
    BootstrapMoments,
    bootstrap_means,
    check_n_boot,
    weighted_means,
)
from csm_helpers.analysis.drivers.common import numeric_array
from csm_helpers.analysis.drivers.regression import driver_minimum_n, key_drivers
from csm_helpers.analysis.drivers.weights import clip_to_positive_definite, johnson_weights

__all__ = ["CONCENTRATE", "KEEP_UP", "LOW_PRIORITY", "OVERKILL", "QUADRANTS", "QUADRANT_BOOT_MIN_N", "QUADRANT_SURE", "ipa",
           "ipa_quadrant_probability"]


# The names stay in English in the tables (they go to metrics.json); the display step translates them.
CONCENTRATE = N_("Concentrate here")
"""IPA quadrant: high importance, low performance."""


KEEP_UP = N_("Keep up the good work")
"""IPA quadrant: high importance, high performance."""


LOW_PRIORITY = N_("Low priority")
"""IPA quadrant: low importance, low performance."""


OVERKILL = N_("Possible overkill")
"""IPA quadrant: low importance, high performance."""


QUADRANTS: tuple[str, ...] = (CONCENTRATE, KEEP_UP, LOW_PRIORITY, OVERKILL)
"""The four IPA quadrant names of SPEC §1.4 (Martilla & James, 1977), exactly as reported."""


_MARTILLA = ("Martilla, J. A., & James, J. C. (1977). Importance-performance analysis. Journal of "
             "Marketing, 41(1), 77-79.")


# --------------------------------------------------------------------------- importance-performance analysis
#: The bootstrap probability of an IPA quadrant is not computed on fewer respondents than this:
#: a bootstrap of fewer than about 30 cases mostly reproduces the sample's own quirks (Efron, B.,
#: & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*, Chapman & Hall, §6.4;
#: Chernick, M. R. (2008). *Bootstrap Methods*, 2nd ed., Wiley, §8.1).
QUADRANT_BOOT_MIN_N = 30

#: An attribute's quadrant is reported as settled when at least this share of the bootstrap
#: resamples puts it there (:func:`ipa_quadrant_probability`); below it the reports grey the
#: attribute out: its quadrant could as well be a neighbouring one.
QUADRANT_SURE = 0.8


def ipa(data: pd.DataFrame, *, attributes: Mapping[str, Mapping[str, Any]] | pd.DataFrame,
        importance: Literal["stated", "derived", "auto"] = "stated",
        derived: pd.DataFrame | Mapping[str, float] | None = None,
        derived_column: str = "relative_weight", crosshair: Literal["grand_mean", "midpoint"] = "grand_mean",
        scale: tuple[float, float] = (1, 5), importance_scale: tuple[float, float] | None = None,
        weights: str | None = None) -> pd.DataFrame:
    """Importance–performance analysis: each attribute's quadrant (SPEC §1.4).

    Martilla, J. A., & James, J. C. (1977). Importance-performance analysis. *Journal of
    Marketing*, 41(1), 77–79.

    x = mean performance, y = importance: the mean stated importance (``importance="stated"``)
    or a derived importance such as the relative weight or r from :func:`key_drivers`
    (``importance="derived"``). Cross-hairs at the grand means (the mean of the attributes'
    values on each axis, every attribute counting once) or at the scale midpoints. A derived
    importance has no scale, so its cross-hair is always the mean of the derived values (for
    relative weights: R^2 / number of attributes, an equal share each).

    Quadrants, named exactly as SPEC §1.4: "Concentrate here" (high importance, low
    performance), "Keep up the good work" (high, high), "Low priority" (low, low), "Possible
    overkill" (low importance, high performance). **Tie rule:** a value on a cross-hair counts
    as high (``>=``).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent; not modified.
    attributes : pandas.DataFrame or mapping
        :func:`attribute_table` (columns ``attribute``, ``performance``, optional ``label``,
        ``dimension``, ``importance``), or a mapping attribute id -> ``{"performance": col,
        "importance": col, "label": ..., "dimension": ...}``.
    importance : {"stated", "derived", "auto"}
        Source of the y axis; ``"auto"`` (as ``analysis.importance`` in study.yaml): stated when
        every attribute has an importance item, else derived.
    derived : pandas.DataFrame or mapping, optional
        With ``importance="derived"``: the :func:`key_drivers` table (its ``attribute`` and
        ``derived_column`` are used) or a mapping attribute id -> importance.
    derived_column : str
        Column of ``derived`` to use (``"relative_weight"``, ``"rw_pct"``, ``"r"``, ...).
    crosshair : {"grand_mean", "midpoint"}
        Where the cross-hairs go.
    scale : (float, float)
        Performance scale (min, max), for the midpoint.
    importance_scale : (float, float), optional
        Stated-importance scale for the midpoint (default: ``scale``).
    weights : str, optional
        Column of survey weights: weighted means.

    Returns
    -------
    pandas.DataFrame
        One row per attribute: ``attribute``, ``label``, ``dimension``, ``n_performance``,
        ``performance`` (mean), ``n_importance`` (answers to the importance item; missing for a
        derived importance), ``importance``, ``importance_type`` (``"stated"`` or
        ``"derived (<derived_column>)"``), ``x_cross``, ``y_cross`` and ``quadrant`` (missing
        when the attribute has no performance or importance value). Means use every answer to
        the item (available cases).

    Raises
    ------
    DataError
        When an item column is missing or not numeric, an attribute has no importance item
        (stated) or no derived value (derived).
    CsmError
        When an option is not one of its allowed values.

    Examples
    --------
    >>> from csm_helpers.study.config import load_study
    >>> from csm_helpers.study.datasets import read_dataset, sample_study_path
    >>> from csm_helpers.analysis.drivers import attribute_table
    >>> table = ipa(read_dataset("responses"), attributes=attribute_table(load_study(sample_study_path())))
    >>> table.set_index("attribute").loc[["problem_resolution", "accuracy"], "quadrant"].tolist()
    ['Concentrate here', 'Possible overkill']
    """
    _check_option("importance", importance, ("stated", "derived", "auto"))
    _check_option("crosshair", crosshair, ("grand_mean", "midpoint"))
    if importance == "auto":
        spec = _attribute_spec(attributes, need_importance=False)
        has_all = "importance" in spec.columns and spec["importance"].notna().all()
        importance = "stated" if has_all else "derived"
    spec = _attribute_spec(attributes, need_importance=importance == "stated")
    w = get_weights(data, weights)
    perf_cols = spec["performance"].tolist()
    P = np.column_stack([numeric_array(data, c, f"performance of {a!r}") for a, c in
                         zip(spec["attribute"], perf_cols, strict=True)])
    n_perf, perf = weighted_means(P, w)
    if importance == "stated":
        imp_cols = spec["importance"].tolist()
        Iq = np.column_stack([numeric_array(data, c, f"importance of {a!r}") for a, c in
                              zip(spec["attribute"], imp_cols, strict=True)])
        n_imp, imp = weighted_means(Iq, w)
        n_imp_col: Any = n_imp
        itype = N_("stated")
    else:
        imp = _derived_values(spec["attribute"].tolist(), derived, derived_column)
        n_imp_col = pd.array([pd.NA] * len(spec), dtype="Int64")
        itype = (N_("derived (relative_weight)") if derived_column == "relative_weight" else
                 f"derived ({derived_column})")
    x_cross, y_cross = _crosshairs(perf[None], imp[None], crosshair=crosshair, importance=importance,
                                   scale=scale, importance_scale=importance_scale)
    quad = _quadrants(perf, imp, float(x_cross[0]), float(y_cross[0]))
    out = pd.DataFrame({
        "attribute": spec["attribute"].tolist(),
        "label": spec["label"].tolist(),
        "dimension": spec["dimension"].tolist(),
        "n_performance": n_perf,
        "performance": perf,
        "n_importance": n_imp_col,
        "importance": imp,
        "importance_type": itype,
        "x_cross": float(x_cross[0]),
        "y_cross": float(y_cross[0]),
        "quadrant": quad,
    })
    out.attrs.update({"crosshair": crosshair, "importance": importance, "weighted": weights is not None,
                      "method": f"Importance-performance analysis: {_MARTILLA} Cross-hairs at the "
                                + ("grand means of the attributes" if crosshair == "grand_mean" else
                                   "scale midpoints") + "; a value on a cross-hair counts as high."})
    return out


def ipa_quadrant_probability(data: pd.DataFrame, *, attributes: Mapping[str, Mapping[str, Any]] | pd.DataFrame,
                             importance: Literal["stated", "derived"] = "stated", outcome: str | None = None,
                             crosshair: Literal["grand_mean", "midpoint"] = "grand_mean",
                             scale: tuple[float, float] = (1, 5), importance_scale: tuple[float, float] | None = None,
                             weights: str | None = None, pairwise: bool = True, n_boot: int = 1000,
                             seed: int = 0, min_n: int | None = None) -> pd.DataFrame:
    """Bootstrap probability that each attribute sits in its IPA quadrant (SPEC §1.7).

    The respondents are resampled ``n_boot`` times (``numpy.random.default_rng(seed)``; above
    10,000 respondents in random batches, as :func:`key_drivers` does); in each resample the whole IPA is redone as :func:`ipa` does it — the means, the derived importances
    (Johnson's relative weights of ``outcome`` on the performance items, as :func:`key_drivers`
    computes them, when ``importance="derived"``) and the grand-mean cross-hairs — and each
    attribute's quadrant is recorded. An attribute whose observed quadrant holds in, say, 55% of
    the resamples is a coin toss away from the neighbouring quadrant.

    Parameters
    ----------
    data, attributes, crosshair, scale, importance_scale, weights
        As for :func:`ipa`.
    importance : {"stated", "derived"}
        Stated mean importance, or relative weights of ``outcome`` on the performance items.
    outcome : str, optional
        The overall satisfaction column (required with ``importance="derived"``).
    pairwise : bool
        Pairwise-complete correlations for the derived importance (as :func:`key_drivers`).
    n_boot : int
        Resamples (at least 1).
    seed : int
        Seed of the resampling.
    min_n : int, optional
        Fewest answers to any item of the analysis; None for :data:`QUADRANT_BOOT_MIN_N` (30),
        or :func:`driver_minimum_n` when that is larger and importance is derived. Below it
        no probability is computed (every ``p_`` column missing, ``attrs["suppressed"]`` True
        and ``attrs["suppressed_reason"]`` says why).

    Returns
    -------
    pandas.DataFrame
        One row per attribute: ``attribute``, ``label``, ``quadrant`` (observed, as :func:`ipa`),
        ``p_quadrant`` (share of resamples in the observed quadrant), then the share of resamples
        in each quadrant: ``p_concentrate_here``, ``p_keep_up_the_good_work``,
        ``p_low_priority``, ``p_possible_overkill`` (they add up to 1). ``attrs`` holds
        ``n_boot``, ``n_boot_used`` (resamples where every value could be computed) and ``seed``.

    Examples
    --------
    >>> from csm_helpers.study.config import load_study
    >>> from csm_helpers.study.datasets import read_dataset, sample_study_path
    >>> from csm_helpers.analysis.drivers import attribute_table
    >>> attrs = attribute_table(load_study(sample_study_path()))
    >>> qp = ipa_quadrant_probability(read_dataset("responses"), attributes=attrs, n_boot=200, seed=3)
    >>> row = qp.set_index("attribute").loc["problem_resolution"]
    >>> row["quadrant"], float(row["p_quadrant"])
    ('Concentrate here', 1.0)
    >>> bool(np.allclose(qp.filter(like="p_").drop(columns="p_quadrant").sum(axis=1), 1))
    True
    """
    _check_option("importance", importance, ("stated", "derived"))
    _check_option("crosshair", crosshair, ("grand_mean", "midpoint"))
    n_boot = check_n_boot(n_boot)
    if n_boot < 1:
        raise CsmError(f"The value for `n_boot` must be at least 1, but {n_boot!r} was passed.")
    spec = _attribute_spec(attributes, need_importance=importance == "stated")
    attrs = spec["attribute"].tolist()
    k = len(attrs)
    w = get_weights(data, weights)
    P = np.column_stack([numeric_array(data, c, f"performance of {a!r}") for a, c in
                         zip(attrs, spec["performance"], strict=True)])
    need = (min_n if min_n is not None else
            max(QUADRANT_BOOT_MIN_N, driver_minimum_n(k) if importance == "derived" else 0))
    items = [P] + ([np.column_stack([numeric_array(data, c, "importance") for c in spec["importance"]])]
                   if importance == "stated" else [])
    n_min = int(min(np.isfinite(m).sum(axis=0).min() for m in items))
    if n_min < need:
        out = pd.DataFrame({"attribute": attrs, "label": spec["label"].tolist(), "quadrant": None,
                            "p_quadrant": np.nan})
        for name in QUADRANTS:
            out["p_" + name.lower().replace(" ", "_")] = np.nan
        out.attrs.update({"n_boot": n_boot, "n_boot_used": 0, "seed": seed, "importance": importance,
                          "crosshair": crosshair, "suppressed": True, "minimum_n": need, "n_min": n_min,
                          "suppressed_reason": _("How sure each quadrant is needs at least {need} answers to "
                                                 "every item; this report has {n}.", need=need, n=n_min)})
        return out
    if importance == "stated":
        Iq = items[1]
        base = ipa(data, attributes=spec, importance="stated", crosshair=crosshair, scale=scale,
                   importance_scale=importance_scale, weights=weights)
        perf_b, imp_b = np.split(bootstrap_means(np.column_stack([P, Iq]), w, n_boot, seed), 2, axis=1)
    else:
        if outcome is None:
            raise CsmError("ipa_quadrant_probability: importance='derived' needs `outcome` (the overall "
                           "satisfaction column) to compute the relative weights")
        drivers = dict(zip(attrs, spec["performance"], strict=True))
        kd = key_drivers(data, outcome=outcome, drivers=drivers, weights=weights, n_boot=0, pairwise=pairwise,
                         min_n=0)  # the minimum was checked above
        base = ipa(data, attributes=spec, importance="derived", derived=kd, crosshair=crosshair, scale=scale,
                   weights=weights)
        X = np.column_stack([numeric_array(data, outcome, "outcome"), P])
        if not pairwise:
            X = np.where(np.isfinite(X).all(axis=1)[:, None], X, np.nan)
        # Same seed, same resamples: the relative weights and the performance means (every
        # answer to the item, as ipa()) of resample b come from the same respondents.
        Rs, _counts = BootstrapMoments(X, w).bootstrap(w, n_boot, seed)
        perf_b = bootstrap_means(P, w, n_boot, seed)
        imp_b = np.full((n_boot, k), np.nan)
        ok = np.isfinite(Rs).all(axis=(1, 2))
        if ok.any():
            imp_b[ok] = johnson_weights(clip_to_positive_definite(Rs[ok])[0])[0]
    good = np.isfinite(perf_b).all(axis=1) & np.isfinite(imp_b).all(axis=1)
    xc, yc = _crosshairs(perf_b, imp_b, crosshair=crosshair, importance=importance, scale=scale,
                         importance_scale=importance_scale)
    high_imp = imp_b >= yc[:, None]
    high_perf = perf_b >= xc[:, None]
    shares = {
        CONCENTRATE: high_imp & ~high_perf,
        KEEP_UP: high_imp & high_perf,
        LOW_PRIORITY: ~high_imp & ~high_perf,
        OVERKILL: ~high_imp & high_perf,
    }
    n_used = int(good.sum())
    out = pd.DataFrame({"attribute": attrs, "label": spec["label"].tolist(), "quadrant": base["quadrant"].tolist()})
    cols = {}
    for name, hit in shares.items():
        cols[name] = hit[good].mean(axis=0) if n_used else np.full(k, np.nan)
    out["p_quadrant"] = np.array([cols[q][i] if isinstance(q, str) else np.nan
                                  for i, q in enumerate(out["quadrant"])], dtype=float)
    for name in QUADRANTS:
        out["p_" + name.lower().replace(" ", "_")] = cols[name]
    out.attrs.update({"n_boot": n_boot, "n_boot_used": n_used, "seed": seed, "importance": importance,
                      "crosshair": crosshair})
    return out


def _crosshairs(perf: np.ndarray, imp: np.ndarray, *, crosshair: str, importance: str,
                scale: tuple[float, float], importance_scale: tuple[float, float] | None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Cross-hairs for a stack of IPA tables (rows = resamples): (x, y)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        gx = np.nanmean(perf, axis=1)
        gy = np.nanmean(imp, axis=1)
    if crosshair == "grand_mean":
        return gx, gy
    lo, hi = _check_scale(scale, "scale")
    x = np.full(len(perf), (lo + hi) / 2)
    if importance == "derived":
        return x, gy
    ilo, ihi = _check_scale(importance_scale if importance_scale is not None else scale, "importance_scale")
    return x, np.full(len(perf), (ilo + ihi) / 2)


def _quadrants(perf: np.ndarray, imp: np.ndarray, x: float, y: float) -> list[str | None]:
    out: list[str | None] = []
    for p, i in zip(perf, imp, strict=True):
        if not (np.isfinite(p) and np.isfinite(i) and np.isfinite(x) and np.isfinite(y)):
            out.append(None)
        elif i >= y:
            out.append(KEEP_UP if p >= x else CONCENTRATE)
        else:
            out.append(OVERKILL if p >= x else LOW_PRIORITY)
    return out


def _check_option(name: str, value: Any, options: tuple[str, ...]) -> None:
    if value not in options:
        raise CsmError(f"The value for `{name}` must be one of {list(options)}, but {value!r} was passed.")


def _check_scale(scale: Any, name: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in scale)
    except (TypeError, ValueError):
        raise CsmError(f"The value for `{name}` must be a pair (min, max), but {scale!r} was passed.") from None
    if not lo < hi:
        raise CsmError(f"The value for `{name}` must be (min, max) with min < max, but {scale!r} was passed.")
    return lo, hi


def _attribute_spec(attributes: Mapping[str, Mapping[str, Any]] | pd.DataFrame, *, need_importance: bool
                    ) -> pd.DataFrame:
    if isinstance(attributes, pd.DataFrame):
        spec = attributes.copy()
    elif isinstance(attributes, Mapping):
        rows = []
        for aid, item in attributes.items():
            if not isinstance(item, Mapping):
                raise CsmError(f"attributes: the entry of {aid!r} must be a mapping such as "
                               f"{{'performance': 'perf_x', 'importance': 'imp_x'}}, but {item!r} was passed")
            rows.append({"attribute": aid, **item})
        spec = pd.DataFrame(rows)
    else:
        raise CsmError("attributes: pass attribute_table(study) or a mapping attribute id -> items, "
                       f"not {type(attributes).__name__}")
    for col in ("attribute", "performance"):
        if col not in spec.columns:
            raise DataError(f"attributes: column {col!r} is missing (found: {', '.join(map(str, spec.columns))}) "
                            "— pass the table attribute_table(study) returns")
    if spec.empty:
        raise DataError("attributes: no attribute given — the study needs at least one attribute")
    spec = spec.reset_index(drop=True)
    if spec["attribute"].duplicated().any():
        dupes = sorted(set(spec.loc[spec["attribute"].duplicated(), "attribute"].astype(str)))
        raise DataError(f"attributes: attribute ids must be unique; repeated: {', '.join(dupes)}")
    if "label" not in spec.columns:
        spec["label"] = spec["attribute"]
    spec["label"] = [lab if isinstance(lab, str) and lab else str(a)
                     for a, lab in zip(spec["attribute"], spec["label"], strict=True)]
    if "dimension" not in spec.columns:
        spec["dimension"] = None
    missing_perf = spec.loc[spec["performance"].isna(), "attribute"].astype(str).tolist()
    if missing_perf:
        raise DataError(f"attributes: no performance item for {', '.join(missing_perf)} — set performance: "
                        "for each attribute in study.yaml")
    if need_importance:
        if "importance" not in spec.columns:
            spec["importance"] = None
        missing = spec.loc[spec["importance"].isna(), "attribute"].astype(str).tolist()
        if missing:
            raise DataError(f"IPA with stated importance: attribute {', '.join(map(repr, missing))} has no importance "
                            "item — add importance: to the attribute in study.yaml, or use importance='derived' "
                            "(relative weights from the key-driver analysis)")
    return spec


def _derived_values(attrs: list[str], derived: pd.DataFrame | Mapping[str, float] | pd.Series | None,
                    column: str) -> np.ndarray:
    if derived is None:
        raise CsmError("ipa: importance='derived' needs `derived` — pass the key_drivers() table "
                       "(or a mapping attribute id -> importance)")
    if isinstance(derived, pd.DataFrame):
        for col in ("attribute", column):
            if col not in derived.columns:
                raise DataError(f"ipa: the derived-importance table has no column {col!r} (found: "
                                f"{', '.join(map(str, derived.columns))}) — pass key_drivers() output or set "
                                "derived_column")
        mapping = dict(zip(derived["attribute"], derived[column], strict=True))
    elif isinstance(derived, pd.Series):
        mapping = derived.to_dict()
    elif isinstance(derived, Mapping):
        mapping = dict(derived)
    else:
        raise CsmError(f"ipa: `derived` must be a DataFrame or a mapping, not {type(derived).__name__}")
    missing = [a for a in attrs if a not in mapping]
    if missing:
        raise DataError(f"ipa: no derived importance for attribute {', '.join(map(repr, missing))} — run "
                        "key_drivers() with every attribute as a driver")
    return np.array([mapping[a] for a in attrs], dtype=float)
