"""csm-workbook helpers: everything the stage notebooks and the ``csm`` command call.

Layers, each importing only from those before it (ARCHITECTURE.md; tests/test_architecture.py):

- ``core``: errors, translation (``i18n``), safe text and paths, YAML, JSON.
- ``study``: study.yaml (``config``), the readers of survey exports and tables, validation.
- ``synthetic``: the generator of the bundled sample study and its ``truth.json``.
- ``analysis``: the methods of SPEC (KPIs, gaps, key drivers, measurement, PLS-PM, Kano, action…).
- ``present``: charts, tables and texts of the reports (``display``, ``views``, ``charts``).
- ``workbook``: what a stage notebook opens (``open_stage``), cached per segment; metrics.json.
- ``pipeline``: ``csm run`` and ``csm batch`` — warm kernels, papermill, nbconvert export.
- ``delivery``: ``csm send`` (e-mails of the reports).
- ``cli``: the ``csm`` command.
"""

import sys as _sys
from importlib.metadata import PackageNotFoundError, version

# jsonschema, which nbformat (and so papermill and nbconvert) imports, loads rfc3987_syntax when it
# is installed, and that module compiles some 35 Earley parsers at import: 1-4 s of every csm
# process, more than the rest of its imports together (python-jsonschema/jsonschema#1428). It only
# serves the "iri" string format, which no notebook schema uses, so it is kept out — unless the
# process imported it already (benchmarks/run.py --before measures the difference).
_sys.modules.setdefault("rfc3987_syntax", None)

try:
    __version__ = version("csm-workbook")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
