"""csm-workbook helpers: everything the stage notebooks call.

Modules: ``config`` (study.yaml), ``io`` (loaders), ``validate``, ``goals`` (stage 01),
``discovery`` (stage 02), ``plots``, ``display``, ``workbook`` (stage context),
``report`` (papermill + nbconvert runner), ``kernels`` (warm kernels), ``batch`` (``csm batch``),
``daskexec`` (its dask executor), ``sample`` (sample-study generator), ``datasets``, ``cli``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("csm-workbook")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
