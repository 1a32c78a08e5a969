"""The bundled sample study, reachable from anywhere through ``importlib.resources``.

The sample lives in ``data/sample/`` of the source tree and is packaged into the wheel as
``csm_helpers/_sample``; both layouts are found.

The sample is synthetic: ``csm_helpers.synthetic.sample.generate_sample(seed=20261123, n=2400)`` writes
it (``csm sample --out DIR`` writes another one), and its ``truth.json`` holds the parameters of
the generating model and the population values they imply (true driver weights, mean
expectation gaps, KPIs), so every analysis can be checked against a known answer. Its tables,
for :func:`read_dataset`: ``responses`` (the survey, with fake personal data), ``interviews``
(discovery), ``population`` (segment sizes), ``complaints`` and ``lost_reasons``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from csm_helpers.core.errors import CsmError
from csm_helpers.core.resources import bundled_dir

if TYPE_CHECKING:  # pandas is imported when a data set is read: csm run reads study.yaml before it
    import pandas as pd

__all__ = ["sample_dir", "sample_study_path", "list_datasets", "read_dataset"]


def sample_dir() -> Path:
    """Folder of the bundled sample study.

    Examples
    --------
    >>> (sample_dir() / "study.yaml").is_file()
    True
    """
    return bundled_dir("_sample", "data/sample", marker="study.yaml")


def sample_study_path() -> Path:
    """Path of the bundled sample's ``study.yaml`` (the default study of ``csm run``)."""
    return sample_dir() / "study.yaml"


def list_datasets() -> list[str]:
    """Names of the tables of the sample study (file stems), for :func:`read_dataset`.

    Examples
    --------
    >>> "responses" in list_datasets()
    True
    """
    return sorted(p.stem for p in sample_dir().glob("*.csv"))


def read_dataset(name: str) -> pd.DataFrame:
    """Read one table of the bundled sample study as a DataFrame.

    Examples
    --------
    >>> df = read_dataset("interviews")
    >>> len(df) >= 30
    True
    """
    path = sample_dir() / f"{name}.csv"
    if not path.is_file():
        raise CsmError(f"no sample dataset {name!r}; available: {', '.join(list_datasets())}")
    import pandas as pd

    return pd.read_csv(path, encoding="utf-8-sig")
