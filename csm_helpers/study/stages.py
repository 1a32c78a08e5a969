"""The stage notebooks: where they are, what each one needs, and whether a folder of them is usable.

The ``.ipynb`` files are the researcher's source: nothing here writes one. This module only
reads them.

* :func:`notebooks_dir` is the bundled set; :func:`study_notebooks` picks the set a run uses
  (``--notebooks DIR``, else the study's ``notebooks:`` key, else a ``notebooks/`` folder beside
  ``study.yaml``, else the bundled set).
* :data:`STAGE_INPUTS` and :func:`stage_support` say which stages a study can run before any
  notebook starts, so a study with only survey responses skips discovery with a reason instead
  of failing half-way.
* :func:`check_notebook` refuses a notebook that papermill could not parameterise, and
  :func:`cell_problems` lists the cells that are not thin (the rule of the project's own
  notebooks: calls to public ``csm_helpers`` names and short explanations, no logic).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from csm_helpers.core.errors import ConfigError, UsageError
from csm_helpers.core.i18n import N_, _, tr
from csm_helpers.core.resources import bundled_dir
from csm_helpers.study.config import Study

__all__ = [
    "STAGE_TITLES",
    "STAGE_COST",
    "stage_cost",
    "STAGE_INPUTS",
    "BEFORE_SURVEY",
    "stage_has_summary",
    "PARAMETERS",
    "MAX_CELL_LINES",
    "is_stage_file",
    "notebooks_dir",
    "stage_names",
    "study_notebooks",
    "resolve_stages",
    "stage_support",
    "skip_reason",
    "check_notebook",
    "check_notebooks_folder",
    "cell_problems",
]

#: Reader-facing title of each stage notebook.
STAGE_TITLES = {
    "01_goal_setting": N_("Goal-setting"),
    "02_discovery": N_("Discovery"),
    "03_measurement": N_("Measurement"),
    "04_analysis": N_("Analysis"),
    "05_action_progress": N_("Action planning and progress"),
}

#: Rough relative cost of each stage (seconds of one warm kernel on the bundled sample, n = 2,400).
#: ``csm run`` hands the dearest stages to its kernels first, so that the stages that run at the
#: same time end at about the same time (longest processing time first).
STAGE_COST = {
    "01_goal_setting": 0.5,
    "02_discovery": 1.4,
    "03_measurement": 3.3,
    "04_analysis": 6.4,
    "05_action_progress": 1.3,
}


def stage_cost(stage: str) -> float:
    """:data:`STAGE_COST` of a stage; 1.0 for a study's own notebook.

    Examples
    --------
    >>> stage_cost("04_analysis") > stage_cost("01_goal_setting"), stage_cost("06_extra")
    (True, 1.0)
    """
    return STAGE_COST.get(stage, 1.0)


#: The study.yaml keys a stage cannot run without (beyond ``responses``, which every study has).
#: A stage of the researcher's own (``06_branch_deep_dive.ipynb``) needs only the responses.
STAGE_INPUTS: dict[str, tuple[str, ...]] = {
    "01_goal_setting": ("goals",),
    "02_discovery": ("interviews", "codebook"),
}

#: Stages that come before any survey exists: their reports carry no KPI tiles or priorities.
BEFORE_SURVEY = frozenset({"01_goal_setting", "02_discovery"})


def stage_has_summary(stage: str) -> bool:
    """Whether a stage's report opens with the KPI tiles, priorities and caveats of the survey.

    Goal-setting and discovery come before the survey: tiles there would report results the
    stage itself does not use. A researcher's own stage (``06_branch_deep_dive``) has them.

    Examples
    --------
    >>> stage_has_summary("01_goal_setting"), stage_has_summary("04_analysis")
    (False, True)
    """
    return stage not in BEFORE_SURVEY


#: The papermill parameters every stage notebook declares in its ``parameters`` cell.
PARAMETERS = ("study_path", "segment", "output_dir")

#: The longest code cell a thin notebook has (the project's notebooks; a researcher's may differ).
MAX_CELL_LINES = 20

_STAGE_FILE = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")


def is_stage_file(name: str) -> bool:
    """True for a stage notebook file name: two digits, an underscore, lower-case words.

    Examples
    --------
    >>> is_stage_file("04_analysis.ipynb"), is_stage_file("scratch.ipynb")
    (True, False)
    """
    return bool(_STAGE_FILE.match(name))


def notebooks_dir() -> Path:
    """Folder of the bundled stage notebooks (source checkout or installed package).

    Examples
    --------
    >>> (notebooks_dir() / "04_analysis.ipynb").is_file()
    True
    """
    return bundled_dir("_notebooks", "notebooks")


def stage_names(folder: Path | None = None) -> list[str]:
    """Stage names (notebook stems) of ``folder`` in run order; None = the bundled set.

    Examples
    --------
    >>> stage_names()[:2]
    ['01_goal_setting', '02_discovery']
    """
    folder = notebooks_dir() if folder is None else Path(folder)
    return sorted(p.stem for p in folder.glob("*.ipynb") if is_stage_file(p.name))


def study_notebooks(study: Study, override: str | Path | None = None, *,
                    default: Path | None = None) -> tuple[Path, str]:
    """The folder of stage notebooks a run of ``study`` uses, and where that choice came from.

    In order: ``override`` (``--notebooks DIR``), the study's ``notebooks:`` key, a
    ``notebooks/`` folder beside ``study.yaml`` that holds stage notebooks (what ``csm init``
    writes), else ``default`` (the bundled set).

    Returns
    -------
    (Path, str)
        The folder, resolved, and one of ``"--notebooks"``, ``"study.yaml notebooks:"``,
        ``"study folder"``, ``"bundled"``.

    Raises
    ------
    ConfigError
        When the folder given by ``override`` or the ``notebooks:`` key does not exist.

    Examples
    --------
    >>> from csm_helpers.study.config import load_study
    >>> from csm_helpers.study.datasets import sample_study_path
    >>> study_notebooks(load_study(sample_study_path()))[1]
    'bundled'
    """
    if override is not None:
        folder = Path(override).expanduser().resolve()
        if not folder.is_dir():
            raise ConfigError(f"--notebooks {override}: no such folder — give the folder holding your "
                              "NN_name.ipynb stage notebooks")
        return folder, "--notebooks"
    if study.notebooks:
        folder = (study.dir / Path(study.notebooks).expanduser()).resolve()
        if not folder.is_dir():
            raise ConfigError(f"{study.path}: notebooks: {study.notebooks!r} is not a folder ({folder}) — "
                              "give the folder holding your NN_name.ipynb stage notebooks, relative to "
                              "study.yaml, or remove the key to use the bundled notebooks")
        return folder, "study.yaml notebooks:"
    beside = study.dir / "notebooks"
    if beside.is_dir() and stage_names(beside):
        return beside.resolve(), "study folder"
    return (default or notebooks_dir()).resolve(), "bundled"


def stage_support(study: Study, stages: list[str]) -> dict[str, list[str]]:
    """For each stage, the study.yaml keys it needs and the study lacks (empty: it can run).

    Examples
    --------
    >>> from csm_helpers.study.config import load_study
    >>> from csm_helpers.study.datasets import sample_study_path
    >>> study = load_study(sample_study_path()).model_copy(update={"interviews": None})
    >>> stage_support(study, ["02_discovery", "04_analysis"])
    {'02_discovery': ['interviews'], '04_analysis': []}
    """
    return {stage: [key for key in STAGE_INPUTS.get(stage, ()) if getattr(study, key, None) in (None, "")]
            for stage in stages}


def skip_reason(stage: str, missing: list[str]) -> str:
    """The one line that says why a stage was not run, in the current language.

    Examples
    --------
    >>> skip_reason("02_discovery", ["interviews", "codebook"])
    '02 Discovery: no interviews or codebook in study.yaml'
    """
    title = f"{stage[:2]} {tr(STAGE_TITLES.get(stage, stage))}"
    keys = _(" or ").join(missing)
    return _("{stage}: no {keys} in study.yaml", stage=title, keys=keys)


def _read(path: Path) -> dict[str, Any]:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: the stage notebook is missing — copy it from the bundled set "
                          f"({notebooks_dir() / path.name}) or run `csm init` again") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{path}: not a readable notebook ({exc}) — open it in JupyterLab and save it "
                          "again, or restore it from version control") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ConfigError(f"{path}: not a Jupyter notebook (no 'cells' list) — restore it from version control")
    return nb


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def check_notebook(path: str | Path) -> None:
    """Refuse a stage notebook that papermill cannot run as a stage.

    It must be a readable notebook with exactly one cell tagged ``parameters`` that assigns
    :data:`PARAMETERS` (``study_path``, ``segment``, ``output_dir``).

    Raises
    ------
    ConfigError
        Naming the notebook and the fix.

    Examples
    --------
    >>> check_notebook(notebooks_dir() / "04_analysis.ipynb")  # passes silently
    """
    path = Path(path)
    nb = _read(path)
    tagged = [c for c in nb["cells"] if "parameters" in (c.get("metadata") or {}).get("tags", [])]
    if len(tagged) != 1:
        found = "no cell" if not tagged else f"{len(tagged)} cells"
        raise ConfigError(
            f"{path}: {found} tagged 'parameters' — a stage notebook needs exactly one; in JupyterLab open "
            "the property inspector (gear icon) of the first code cell and add the tag 'parameters'")
    source = _source(tagged[0])
    missing = [p for p in PARAMETERS if not re.search(rf"^\s*{p}\s*(:[^=]*)?=", source, re.MULTILINE)]
    if missing:
        raise ConfigError(
            f"{path}: the 'parameters' cell does not set {', '.join(missing)} — keep the three lines "
            + "; ".join(f'{p} = ...' for p in PARAMETERS) + " (copy them from the bundled notebook)")


def check_notebooks_folder(folder: Path, stages: list[str]) -> None:
    """:func:`check_notebook` for every stage in ``stages``, before anything runs.

    Raises
    ------
    ConfigError
        When a stage notebook is missing from ``folder`` or cannot be parameterised.
    """
    for stage in stages:
        path = folder / f"{stage}.ipynb"
        if not path.is_file():
            raise ConfigError(f"{folder}: stage notebook {path.name} is missing — copy it from "
                              f"{notebooks_dir()} or leave the stage out with --stages")
        check_notebook(path)


def _public_names(module: str) -> set[str] | None:
    import importlib

    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    return set(getattr(mod, "__all__", [n for n in vars(mod) if not n.startswith("_")]))


def cell_problems(path: str | Path, *, max_lines: int = MAX_CELL_LINES) -> list[str]:
    """What keeps a notebook from being thin: one line per problem (empty when it is thin).

    A thin notebook's code cells import only public names of ``csm_helpers`` (its submodules'
    ``__all__``), define no function or class, touch no ``_private`` attribute and are at most
    ``max_lines`` lines; it is committed without outputs.

    Examples
    --------
    >>> [p for s in stage_names() for p in cell_problems(notebooks_dir() / f"{s}.ipynb")]
    []
    """
    path = Path(path)
    problems: list[str] = []
    for i, cell in enumerate(_read(path)["cells"], start=1):
        if cell.get("cell_type") != "code":
            continue
        where = f"{path.name} cell {i}"
        if cell.get("outputs") or cell.get("execution_count") is not None:
            problems.append(f"{where}: has outputs — clear them before committing")
        source = _source(cell)
        lines = [ln for ln in source.splitlines() if ln.strip()]
        if len(lines) > max_lines:
            problems.append(f"{where}: {len(lines)} lines (at most {max_lines}) — move the logic into csm_helpers")
        try:
            tree = ast.parse("\n".join(ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))))
        except SyntaxError as exc:
            problems.append(f"{where}: does not parse ({exc.msg})")
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                problems.append(f"{where}: defines {node.name} — put it in csm_helpers with a test")
            elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
                problems.append(f"{where}: uses the private name .{node.attr}")
            elif isinstance(node, ast.Import):
                problems += [f"{where}: imports {a.name} — call csm_helpers instead" for a in node.names
                             if not a.name.startswith("csm_helpers")]
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if not module.startswith("csm_helpers"):
                    problems.append(f"{where}: imports from {module} — call csm_helpers instead")
                    continue
                public = _public_names(module)
                for alias in node.names:
                    submodule = _public_names(f"{module}.{alias.name}")
                    if alias.name.startswith("_") or (public is not None and submodule is None
                                                      and alias.name not in public):
                        problems.append(f"{where}: imports {alias.name}, not a public name of {module}")
    return problems


def resolve_stages(stages: Sequence[str] | None, notebooks: Path | None = None) -> list[str]:
    """Stage names for names or number prefixes (``"04"``), in the order given; None = all.

    Examples
    --------
    >>> resolve_stages(["04", "05_action_progress"])
    ['04_analysis', '05_action_progress']
    """
    # the bundled stages are always known, so a folder that lost one gets "missing", not "unknown"
    all_stages = sorted({*stage_names(notebooks), *stage_names()}) if notebooks is not None \
        else stage_names()
    wanted = list(all_stages) if not stages else []
    for s in stages or []:
        match = [x for x in all_stages if x == s or x.startswith(f"{s}_") or x.split("_", 1)[0] == s]
        if not match:
            raise UsageError(f"--stages: unknown stage {s!r}; available: {', '.join(all_stages)} — give their "
                             "numbers, e.g. --stages 03,04")
        wanted.extend(m for m in match if m not in wanted)
    return wanted
