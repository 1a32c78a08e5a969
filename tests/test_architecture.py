"""The package's architecture, enforced: layers import downward only, no import circle, and no
private name crosses a module boundary (ARCHITECTURE.md)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

import csm_helpers

PACKAGE = Path(csm_helpers.__file__).parent

#: Each layer, bottom first; a module may import from its own layer and the layers below.
LAYERS = [
    ("core",),
    ("study", "synthetic"),
    ("analysis",),
    ("present",),
    ("workbook",),
    ("pipeline",),
    ("delivery",),
    ("cli",),
]
#: Names that start with "_" but are public by convention: gettext's ``_`` and the version.
CONVENTIONAL = {"_", "__version__"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
#: Each module's syntax tree, parsed once for every check below.
TREES = {module: ast.parse(path.read_text(encoding="utf-8")) for module, path in MODULES.items()}


def _layer(module: str) -> int:
    if module == "csm_helpers":
        return 0  # the package root holds only __version__
    top = module.split(".")[1]
    for rank, names in enumerate(LAYERS):
        if top in names:
            return rank
    raise AssertionError(f"{module}: its folder {top!r} is in no layer of ARCHITECTURE.md — add it to LAYERS")


def _imports() -> dict[str, list[tuple[str, str, int]]]:
    """module -> [(imported module, imported name, line)] for imports of csm_helpers."""
    found: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for module, tree in TREES.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{module}:{node.lineno}: use an absolute import (csm_helpers....)"
                if node.module and node.module.split(".")[0] == "csm_helpers":
                    for alias in node.names:
                        sub = f"{node.module}.{alias.name}"
                        target = sub if sub in MODULES else node.module
                        found[module].append((target, "" if target == sub else alias.name, node.lineno))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "csm_helpers":
                        found[module].append((alias.name, "", node.lineno))
    return found


IMPORTS = _imports()


def test_every_module_is_in_a_layer():
    for module in MODULES:
        _layer(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_layers_import_downward_only(module):
    rank = _layer(module)
    upward = [f"line {line}: {target} ({LAYERS[_layer(target)][0]})"
              for target, _name, line in IMPORTS[module] if _layer(target) > rank]
    assert not upward, f"{module} ({LAYERS[rank][0]}) imports from a layer above it: {upward}"


def test_no_import_circles():
    graph = {m: {t for t, _n, _l in IMPORTS[m] if t != m} for m in MODULES}
    state: dict[str, int] = {}
    circles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                circles.append(path[path.index(nxt):] + [nxt])
            elif nxt in graph and not state.get(nxt):
                visit(nxt, path)
        path.pop()
        state[node] = 2

    for module in sorted(graph):
        if not state.get(module):
            visit(module, [])
    assert not circles, "import circles: " + "; ".join(" -> ".join(c) for c in circles)


def test_no_private_name_crosses_a_module_boundary():
    crossing = [f"{module}:{line} imports {name} from {target}"
                for module, found in IMPORTS.items() for target, name, line in found
                if name.startswith("_") and name not in CONVENTIONAL]
    assert not crossing, crossing


def test_no_private_attribute_of_another_module_is_used():
    """``kpis._helper(...)`` through an imported module is the same crossing as importing it."""
    crossing = []
    for module, tree in TREES.items():
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("csm_helpers"):
                for alias in node.names:
                    if f"{node.module}.{alias.name}" in MODULES:
                        aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("csm_helpers") and alias.asname:
                        aliases[alias.asname] = alias.name
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and node.attr.startswith("_")
                    and node.attr not in CONVENTIONAL and not node.attr.startswith("__")):
                crossing.append(f"{module}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    assert not crossing, crossing


def test_notebooks_import_public_names_only():
    from csm_helpers.study.stages import notebooks_dir

    for nb in sorted(notebooks_dir().glob("*.ipynb")):
        text = nb.read_text(encoding="utf-8")
        for line in (ln.strip().strip('",').replace("\\n", "") for ln in text.splitlines()):
            if line.startswith("from csm_helpers") or line.startswith("import csm_helpers"):
                tree = ast.parse(line)
                node = tree.body[0]
                names = [a.name for a in node.names]
                module = getattr(node, "module", "") or ""
                assert not any(part.startswith("_") for part in module.split(".")), (nb.name, line)
                assert not [n for n in names if n.startswith("_")], (nb.name, line)
