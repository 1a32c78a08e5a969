"""Where the bundled folders are: in a wheel under ``csm_helpers/_<name>``, in a source tree at
the repository root (``templates/``, ``notebooks/``, ``data/sample/``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from csm_helpers.core.errors import CsmError

__all__ = ["bundled_dir"]

#: The repository root of a source tree (csm_helpers/core/resources.py → parents[2]).
_SOURCE_ROOT = Path(__file__).resolve().parents[2]


def bundled_dir(packaged: str, source: str, *, marker: str | None = None) -> Path:
    """The installed ``csm_helpers/<packaged>`` folder, else ``<source>`` of the source tree.

    Parameters
    ----------
    packaged : str
        Folder name inside an installed wheel (``_templates``, ``_notebooks``, ``_sample``).
    source : str
        The same folder relative to the repository root of a source checkout.
    marker : str, optional
        A file that must exist in the folder for it to count (e.g. ``study.yaml``).

    Raises
    ------
    CsmError
        Neither exists: the installation is broken, and the message says to reinstall.

    Examples
    --------
    >>> (bundled_dir("_templates", "templates") / "csm_report").is_dir()
    True
    """
    for folder in (Path(str(resources.files("csm_helpers") / packaged)), _SOURCE_ROOT / source):
        if folder.is_dir() and (marker is None or (folder / marker).is_file()):
            return folder
    raise CsmError(f"the {source}/ folder is missing from this installation — reinstall csm-workbook "
                   "(pip install --force-reinstall csm-workbook)")
