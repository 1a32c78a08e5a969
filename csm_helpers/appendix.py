"""The methods appendix every report ends with (SPEC §1.6).

Each statistic shown, its formula or method with the source, the parameters used, the
software versions, and the SHA-256 of every input file.
"""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

import pandas as pd

from .config import Study

__all__ = ["METHODS", "methods_table", "software_versions", "input_files", "parameters_table"]

#: Method id -> (what is shown, formula or method, source). Notebooks pick the ones they use.
METHODS: dict[str, tuple[str, str, str]] = {
    "self_assessment": (
        "Performance-excellence self-assessment",
        "score points = item points × assessed percentage (0–100 % in 10 % steps); gap = points − score",
        "GB/T 19580-2012 Criteria for performance excellence, 4.3 Customers and market "
        "(4.3.1: 40, 4.3.2: 50 points); Malcolm Baldrige National Quality Award criteria (1990s weights)",
    ),
    "readiness": (
        "Goal-setting readiness checklist",
        "status of the eleven goal-setting steps; ready when every step is done or not applicable",
        "csm-workbook SPEC §1.1 (the eleven goal-setting steps of the CSM methodology)",
    ),
    "kpi_targets": (
        "KPI targets",
        "targets as agreed by the leadership team; later stages test results against them",
        "study goals file",
    ),
    "coding": (
        "Coding of verbatims",
        "Unicode NFC + case folding; word-boundary match for spaced scripts (English, Vietnamese), "
        "substring match for scripts without word spaces (Chinese); regular-expression patterns; "
        "manual codes added",
        "study codebook",
    ),
    "affinity": (
        "Affinity diagram",
        "attributes grouped by dimension (product / process / people) and theme; mentions = interviews "
        "that mention the attribute at least once",
        "Kawakita's KJ method, as used in customer-requirement discovery",
    ),
    "perception_gap": (
        "Perception gap",
        "gap = share of customer-side interviews mentioning the attribute − share of company-side "
        "interviews; Fisher's exact test on the 2×2 table; flagged when |gap| ≥ threshold",
        "Fisher, R. A. (1922). J. R. Stat. Soc. 85(1), 87–94; SciPy stats.fisher_exact",
    ),
    "saturation": (
        "Saturation",
        "cumulative distinct attributes by interview order; saturated when the last k interviews "
        "added no new attribute",
        "Guest, G., Bunce, A., & Johnson, L. (2006). How many interviews are enough? Field Methods 18(1), 59–82",
    ),
    "questionnaire": (
        "Draft questionnaire",
        "for each customer-defined attribute: a performance, an importance and an expectation item",
        "csm-workbook SPEC §1.2",
    ),
}


def methods_table(ids: list[str]) -> pd.DataFrame:
    """Rows of :data:`METHODS` for the given ids, columns ``statistic, method, source``.

    Examples
    --------
    >>> methods_table(["saturation"]).columns.tolist()
    ['statistic', 'method', 'source']
    """
    unknown = [i for i in ids if i not in METHODS]
    if unknown:
        raise KeyError(f"no method entry for {unknown}; known: {sorted(METHODS)}")
    return pd.DataFrame([METHODS[i] for i in ids], columns=["statistic", "method", "source"])


def software_versions() -> pd.DataFrame:
    """Versions of Python and the libraries behind the numbers (columns ``software, version``).

    Examples
    --------
    >>> "pandas" in software_versions()["software"].tolist()
    True
    """
    rows = [("Python", platform.python_version())]
    for pkg in ("csm-workbook", "pandas", "numpy", "scipy", "pingouin", "seaborn", "matplotlib",
                "papermill", "nbconvert"):
        try:
            rows.append((pkg, version(pkg)))
        except PackageNotFoundError:
            rows.append((pkg, "not installed"))
    return pd.DataFrame(rows, columns=["software", "version"])


def input_files(study: Study) -> pd.DataFrame:
    """Every input file of the study with its size and SHA-256 (columns ``key, file, bytes, sha256``).

    Examples
    --------
    >>> from csm_helpers.config import load_study
    >>> from csm_helpers.datasets import sample_study_path
    >>> t = input_files(load_study(sample_study_path()))
    >>> bool(t["sha256"].str.len().eq(64).all())
    True
    """
    from .report import file_sha256

    rows = [("study", study.path.name, study.path.stat().st_size, file_sha256(study.path))]
    for key, rel in study.file_keys().items():
        path = study.resolve(rel, key=key)
        if path.is_file():
            rows.append((key, rel, path.stat().st_size, file_sha256(path)))
        else:
            rows.append((key, rel, 0, "missing"))
    return pd.DataFrame(rows, columns=["key", "file", "bytes", "sha256"])


def parameters_table(study: Study, *, segment: str, **extra: object) -> pd.DataFrame:
    """Parameters this report was produced with (columns ``parameter, value``)."""
    rows = [("study", study.name), ("segment", segment), ("seed", study.seed),
            ("minimum cell size", study.min_cell_size), ("language", study.language)]
    rows += [(k.replace("_", " "), v) for k, v in extra.items()]
    return pd.DataFrame([(k, str(v)) for k, v in rows], columns=["parameter", "value"])
