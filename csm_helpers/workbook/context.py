"""What a stage notebook starts with: the study, the segment's data, where outputs go.

A notebook's first code cell is ``ctx = open_stage("02_discovery", study_path=..., segment=...,
output_dir=...)``; everything after it is a helper call on ``ctx``'s data. Loading and
validation happen here once, so every notebook reports bad input the same way."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.core.errors import CsmError
from csm_helpers.core.i18n import set_language
from csm_helpers.core.jsonable import to_jsonable
from csm_helpers.core.safety import write_text_atomic
from csm_helpers.study.config import Codebook, Goals, Study, load_codebook, load_goals, load_study
from csm_helpers.study.datasets import sample_study_path
from csm_helpers.workbook.cache import cached, enable_data_cache
from csm_helpers.workbook.segment import parse_segment, select_segment
from csm_helpers.workbook.tables import AnalysisTables

__all__ = ["METRICS_FRAGMENT_DIR", "StageContext", "single_threaded_blas", "find_study_file", "open_stage"]


#: Sub-folder of a stage's output_dir where each notebook leaves its part of metrics.json.
METRICS_FRAGMENT_DIR = "_stage_metrics"


@dataclass
class StageContext(AnalysisTables):
    """A stage's inputs: the validated study, the segment, and where to write files.

    Attributes are loaded on first use and cached, so a notebook only pays for what it uses.
    """

    stage: str
    study: Study
    segment: str = "all"
    output_dir: Path | None = None
    _metrics: dict[str, Any] = field(default_factory=dict, repr=False)

    def _loaded(self) -> pd.DataFrame:
        from csm_helpers.study.readers import load_responses

        return cached(self.study, ("responses",), lambda: load_responses(self.study)).data

    @property
    def left_out(self) -> dict[str, int]:
        """Rows of the survey export left out when it was read, by reason (a Qualtrics export's
        survey previews and unfinished responses; see ``responses.qualtrics`` in study.yaml)."""
        from csm_helpers.study.readers import load_responses

        return dict(cached(self.study, ("responses",), lambda: load_responses(self.study)).left_out)

    def point_labels(self, items: list[str]) -> dict[int, str] | None:
        """The answer labels of ``items``' scale points from the export (SPSS value labels such
        as ``{1: "Strongly disagree", …}``), when every labelled item of them has the same
        labels; None otherwise (charts then show the point numbers)."""
        from csm_helpers.study.readers import load_responses

        labels = cached(self.study, ("responses",), lambda: load_responses(self.study)).value_labels
        found = [dict(labels[c]) for c in items if labels.get(c)]
        if not found or any(f != found[0] for f in found):
            return None
        out: dict[int, str] = {}
        for code, text in found[0].items():
            try:
                value = float(code)
            except (TypeError, ValueError):
                return None
            if value.is_integer():
                out[int(value)] = str(text)
        return out or None

    def _segment_cached(self, name: str, compute: Callable[[], Any]) -> Any:
        """A table of this segment's analysis, computed once per segment when the data cache is
        on (the summary, stage 04 and stage 05 share it); only the latest segment's is kept."""
        return cached(self.study, (f"segment:{name}", self.segment), compute)

    def _table(self, key: str, required: tuple[str, ...] = ()) -> pd.DataFrame:
        from csm_helpers.study.readers import read_study_table

        return cached(self.study, (f"table:{key}", required),
                       lambda: read_study_table(self.study, key, required=list(required))).data

    @cached_property
    def responses(self) -> pd.DataFrame:
        """The segment's survey responses, validated, personal-data columns removed."""
        return select_segment(self.all_responses, self.study, self.segment)

    @property
    def n(self) -> int:
        """Number of respondents in the segment."""
        return len(self.responses)

    # -- measurement and analysis data (stages 03-05) ---------------------------------
    @cached_property
    def all_responses(self) -> pd.DataFrame:
        """Every validated response of the study (all segments), personal data removed."""
        return self._loaded()

    @cached_property
    def population(self) -> pd.DataFrame | None:
        """The population table (long format: segment, value, population[, invited]) or None."""
        if not self.study.population:
            return None
        return self._table("population", ("segment", "value", "population"))

    @cached_property
    def quality_flags(self) -> pd.DataFrame:
        """Data-quality flags of every response (stage 03), aligned with :attr:`all_responses`."""
        from csm_helpers.analysis.measurement import quality_flags

        return cached(self.study, ("quality_flags",), lambda: quality_flags(self.all_responses, self.study))

    @cached_property
    def kept_responses(self) -> pd.DataFrame:
        """All responses left after the exclusions set in ``measurement.exclude``, with the
        study's weights (raked on this whole kept sample) in :data:`stats.WEIGHT_COLUMN`."""
        from csm_helpers.analysis.measurement import apply_exclusions, study_weights
        from csm_helpers.analysis.stats import WEIGHT_COLUMN

        def compute() -> pd.DataFrame:
            kept = apply_exclusions(self.all_responses, self.quality_flags,
                                    exclude=list(self.study.measurement.exclude))
            w = study_weights(kept, self.study, population=self.population)
            if w is not None:
                kept = kept.assign(**{WEIGHT_COLUMN: np.asarray(w, dtype=float)})
            return kept

        return cached(self.study, ("kept_responses",), compute)

    @property
    def weights(self) -> str | None:
        """Name of the weight column in the analysis data, or None for an unweighted study."""
        from csm_helpers.analysis.stats import WEIGHT_COLUMN

        return WEIGHT_COLUMN if WEIGHT_COLUMN in self.kept_responses.columns else None

    @cached_property
    def analysis_data(self) -> pd.DataFrame:
        """The segment's kept responses (all waves), weights included."""
        return select_segment(self.kept_responses, self.study, self.segment)

    @cached_property
    def waves(self) -> list[str]:
        """Waves in the data, oldest first (sorted by their label; single wave: ``[]``)."""
        col = self.study.responses.wave
        if not col:
            return []
        return sorted(str(w) for w in self.all_responses[col].dropna().unique())

    @property
    def latest_wave(self) -> str | None:
        return self.waves[-1] if self.waves else None

    @property
    def previous_wave(self) -> str | None:
        """``analysis.previous_wave`` if set, else the wave before the latest (None if single)."""
        if self.study.analysis.previous_wave:
            if self.study.analysis.previous_wave not in self.waves:
                raise CsmError(
                    f"analysis.previous_wave {self.study.analysis.previous_wave!r} is not a wave in the data "
                    f"({', '.join(self.waves) or 'no wave column'}) — fix it in {self.study.path.name}")
            return self.study.analysis.previous_wave
        return self.waves[-2] if len(self.waves) >= 2 else None

    @property
    def by_wave(self) -> tuple[pd.DataFrame, str]:
        """``(data, wave column)`` for wave-by-wave helpers; a study without a wave column is
        one wave, labelled "single wave" in the column ``_csm_wave``."""
        col = self.study.responses.wave
        if col:
            return self.analysis_data, col
        return self.analysis_data.assign(_csm_wave="single wave"), "_csm_wave"

    def wave_data(self, wave: str | None) -> pd.DataFrame:
        """The segment's analysis data of one wave (all data when the study has no waves)."""
        if wave is None or not self.study.responses.wave:
            return self.analysis_data
        col = self.study.responses.wave
        data = self.analysis_data
        return data.loc[(data[col].astype("string") == wave).to_numpy(dtype=bool, na_value=False)]

    @property
    def scales(self) -> dict[str, tuple[float, float]]:
        """Scale (min, max) of every rated item of the study."""
        return self.study.rated_items()

    @property
    def kpi_targets(self) -> dict[str, float]:
        """KPI targets from the goals file (``metric -> target``; empty without goals)."""
        goals = self.goals
        return {t.metric: t.target for t in goals.kpi_targets} if goals else {}

    @property
    def labels(self) -> dict[str, str]:
        """Attribute label of every attribute item column (performance, importance, ...)."""
        out = {}
        for a in self.study.attributes:
            for kind in ("performance", "importance", "expectation", "competitor"):
                col = getattr(a, kind)
                if col:
                    out[col] = a.label
        return out

    @property
    def population_segments(self) -> list[str]:
        """Segment columns of the study that have population sizes in the population table."""
        if self.population is None:
            return []
        present = set(self.population["segment"].astype(str))
        return [c for c in self.study.responses.segments if c in present]

    @property
    def item_groups(self) -> dict[str, list[str]]:
        """Rated items by kind (performance, importance, expectation, competitor), config order."""
        groups: dict[str, list[str]] = {}
        for kind in ("performance", "importance", "expectation", "competitor"):
            cols = [getattr(a, kind) for a in self.study.attributes if getattr(a, kind)]
            if cols:
                groups[kind] = cols
        return groups

    @property
    def scale_groups(self) -> list[tuple[str, tuple[float, float], list[str]]]:
        """Rated items by kind and scale: ``(kind, (lowest, highest), items)``, config order.

        A kind whose items have different scales (``scales: {default: [1, 5], perf_fees: [1, 7]}``)
        gives one group per scale, so every item is read on its own scale.

        Examples
        --------
        >>> ctx = open_stage("03_measurement")
        >>> [(kind, scale, len(items)) for kind, scale, items in ctx.scale_groups][:2]
        [('performance', (1.0, 5.0), 12), ('importance', (1.0, 5.0), 12)]
        """
        out: list[tuple[str, tuple[float, float], list[str]]] = []
        for kind, items in self.item_groups.items():
            by_scale: dict[tuple[float, float], list[str]] = {}
            for item in items:
                by_scale.setdefault(tuple(self.study.scale_for(item, kind)), []).append(item)
            out += [(kind, scale, cols) for scale, cols in by_scale.items()]
        return out

    @property
    def importance_mode(self) -> str:
        """IPA importance: ``analysis.importance``, where ``auto`` = stated when every attribute
        has an importance item, else derived (relative weights)."""
        setting = self.study.analysis.importance
        if setting != "auto":
            return setting
        return "stated" if all(a.importance for a in self.study.attributes) else "derived"

    @property
    def attribute_labels(self) -> dict[str, str]:
        """``attribute id -> label`` for every attribute of the study."""
        return {a.id: a.label for a in self.study.attributes}

    # -- the analysis settings and tables stages 04 and 05 (and the summary) share ----------
    @property
    def common(self) -> dict[str, Any]:
        """``weights``, ``level``, ``min_n`` as every analysis helper takes them."""
        return {"weights": self.weights, "level": self.study.analysis.level, "min_n": self.study.min_cell_size}

    @property
    def boot(self) -> dict[str, Any]:
        """``n_boot`` and ``seed`` for every bootstrap."""
        return {"n_boot": self.study.analysis.bootstrap, "seed": self.study.seed}

    @property
    def satisfaction(self) -> dict[str, Any]:
        """The satisfaction items and scales the KPI helpers take (overall, CSI items, recommend)."""
        s = self.study
        return {"overall": s.overall, "satisfaction_items": [s.overall, *s.satisfaction_items],
                "scales": self.scales, "recommend": s.recommend, "top_box": s.analysis.top_box}

    @property
    def performance_scale(self) -> tuple[float, float]:
        """Scale of the (first) performance item."""
        first = self.study.attributes[0].performance
        return self.study.scale_for(first, "performance")

    # -- what may be published: the base of each figure (SPEC §4, csm_helpers.analysis.disclosure) ---------
    @cached_property
    def reported_all(self) -> pd.DataFrame:
        """Kept responses of the reported (latest) wave, every segment: the base SPEC §4 counts on."""
        from csm_helpers.analysis.disclosure import wave_rows

        return wave_rows(self.kept_responses, self.study, self.latest_wave)

    @cached_property
    def current(self) -> pd.DataFrame:
        """The segment's analysis data of the latest wave: what stage 04 reports on (computed once)."""
        return self.wave_data(self.latest_wave)

    @cached_property
    def goals(self) -> Goals | None:
        return cached(self.study, ("goals",), lambda: load_goals(self.study))

    @cached_property
    def codebook(self) -> Codebook | None:
        return cached(self.study, ("codebook",), lambda: load_codebook(self.study))

    @cached_property
    def interviews(self) -> pd.DataFrame | None:
        """Discovery interviews in the standard columns of :func:`discovery.prepare_interviews`."""
        spec = self.study.interviews
        if spec is None:
            return None
        from csm_helpers.analysis.discovery import prepare_interviews
        from csm_helpers.study.readers import read_study_table

        def compute() -> pd.DataFrame:
            table = read_study_table(self.study, "interviews", required=[spec.id, spec.group, spec.text])
            return prepare_interviews(table.data, spec=spec)

        return cached(self.study, ("interviews",), compute)

    def output_path(self, name: str) -> Path | None:
        """Where to write an exported file next to the report (None when output is off)."""
        if self.output_dir is None:
            return None
        self.output_dir.mkdir(parents=True, exist_ok=True)
        return self.output_dir / name

    def write_segment_pairs(self, column: str, means: dict[str, Any], top: dict[str, Any]) -> str | None:
        """Write every pair of a segment comparison by ``column`` (``segments.compare_means`` and
        ``compare_top_box``) to ``<stage>_segment_pairs_<column>.csv`` beside the report, when
        the report shows only some of them (more than ``views.PAIRS_SHOWN``); the file's name,
        else None (also when output is off). The CSV is formula-safe (segment labels are data).
        """
        import re

        from csm_helpers.core.safety import to_safe_csv
        from csm_helpers.present.segment_views import PAIRS_SHOWN, segment_pairs

        pairs = segment_pairs(means, top)
        if len(pairs) <= PAIRS_SHOWN:
            return None
        slug = re.sub(r"[^\w-]+", "_", column)[:60]
        name = f"{self.stage[:2]}_segment_pairs_{slug}.csv"
        path = self.output_path(name)
        if path is None:
            return None
        to_safe_csv(pairs, path)
        return name

    def record_metrics(self, values: dict[str, Any]) -> None:
        """Add entries to this segment's ``metrics.json`` (merged by the runner).

        ``suppressed`` entries are appended to the list, never replaced.
        """
        values = to_jsonable(values)
        if "suppressed" in values:
            self._metrics.setdefault("suppressed", []).extend(values.pop("suppressed") or [])
        self._metrics.update(values)
        if self.output_dir is None:
            return
        path = self.output_dir / METRICS_FRAGMENT_DIR / f"{self.stage}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, json.dumps(self._metrics, ensure_ascii=False, sort_keys=True, indent=2))


def single_threaded_blas() -> int:
    """Run BLAS and LAPACK (numpy's and scipy's) on one thread in this process from now on.

    A multi-threaded BLAS splits a matrix product between its threads, and how it splits
    depends on the number of threads — by default the machine's cores, or whatever
    ``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS`` say (dask, for one, sets them to 1). The
    partial sums are then added in another order and the last bits change: the seeded
    bootstrap intervals of the key drivers came out different in the 16th digit on a 2-core
    and a 1-thread run, so ``metrics.json`` was not byte-identical. With one thread the order
    is fixed. Every stage notebook calls this through :func:`open_stage`; ``csm batch`` gets
    its parallelism from several kernels, not from BLAS threads. Returns the number of BLAS
    libraries limited (``threadpoolctl``).

    Examples
    --------
    >>> single_threaded_blas() >= 1
    True
    """
    import scipy.linalg  # noqa: F401 - load scipy's own OpenBLAS too, so it is limited as well
    from threadpoolctl import ThreadpoolController

    global _BLAS_CONTROLLER
    if _BLAS_CONTROLLER is None:  # finding the libraries reads the process's memory map: once per process
        _BLAS_CONTROLLER = ThreadpoolController()
    blas = _BLAS_CONTROLLER.select(user_api="blas")
    blas.limit(limits=1)  # an undo object; the limit stays until another call changes it
    return len(blas.lib_controllers)


_BLAS_CONTROLLER: Any = None


def find_study_file(start: str | Path | None = None) -> Path:
    """The study a notebook opened without parameters belongs to.

    ``study.yaml`` in ``start`` (default: the working folder) or in its parent, so a notebook
    in ``mystudy/notebooks/`` finds ``mystudy/study.yaml``; else the bundled sample study.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "notebooks").mkdir()
    >>> _ = (root / "study.yaml").write_text("name: x", encoding="utf-8")
    >>> find_study_file(root / "notebooks") == root / "study.yaml"
    True
    >>> find_study_file(Path(tempfile.mkdtemp())) == sample_study_path()
    True
    """
    here = Path(start) if start is not None else Path.cwd()
    for folder in (here, here.parent):
        if (folder / "study.yaml").is_file():
            return folder / "study.yaml"
    return sample_study_path()


def _in_kernel() -> bool:
    """True inside a Jupyter kernel (JupyterLab, papermill), where a module-level cache lives
    as long as the kernel and the researcher runs the same notebook again and again."""
    shell = sys.modules.get("IPython")
    get = getattr(shell, "get_ipython", None)
    return bool(get and get() is not None and "ipykernel" in sys.modules)


def open_stage(stage: str, *, study_path: str = "", segment: str = "all",
               output_dir: str = "") -> StageContext:
    """Load what a stage notebook needs (the papermill parameters go straight in).

    Parameters
    ----------
    stage : str
        The notebook's stage name, e.g. ``"01_goal_setting"``.
    study_path : str
        Path of ``study.yaml``. Empty: the ``study.yaml`` of the working folder or of its
        parent (a notebook opened in JupyterLab from a study workbook's ``notebooks/``
        folder, as ``csm init`` writes it), else the bundled sample study.
    segment : str
        ``"all"`` or ``"COLUMN=VALUE"`` (one of the study's segment columns).
    output_dir : str
        Folder for files written beside the report; empty to write nothing.

    Examples
    --------
    >>> ctx = open_stage("01_goal_setting")
    >>> ctx.segment, ctx.study.language
    ('all', 'en')
    """
    study = load_study(study_path or find_study_file())
    if _in_kernel():
        enable_data_cache()  # a second Run All in the same kernel reuses the loaded, validated data
    parse_segment(segment, study)  # fail early on a malformed segment
    set_language(study.language)  # fixed text of this stage's tables and charts
    single_threaded_blas()  # the same numbers on every machine
    out = Path(output_dir).resolve() if output_dir else None
    return StageContext(stage=stage, study=study, segment=segment or "all", output_dir=out)
