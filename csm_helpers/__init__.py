"""csm-workbook helpers: everything the stage notebooks call.

Modules: ``config`` (study.yaml), ``io`` (loaders), ``validate``, ``goals`` (stage 01),
``discovery`` (stage 02), ``plots``, ``display``, ``workbook`` (stage context),
``report`` (papermill + nbconvert runner), ``kernels`` (warm kernels), ``batch`` (``csm batch``),
``daskexec`` (its dask executor), ``sample`` (sample-study generator), ``datasets``, ``cli``.
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
