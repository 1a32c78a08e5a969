#!/usr/bin/env python3
"""Keep the translation catalogs (csm_helpers/locales/*.po) in step with the code.

    python tools/i18n_catalog.py update [--record FILE ...]   # messages.pot + merge into vi.po, zh.po
    python tools/i18n_catalog.py check                        # exit 1 if a message lacks a translation

Messages are found statically:

* calls ``_("...")``, ``tr("...")`` and ``N_("...")`` with a literal first argument, in
  ``csm_helpers/*.py`` and in the code cells of ``notebooks/*.ipynb``;
* literal text given to the display helpers that translate what they show
  (``show_callout``/``show_text`` first argument, ``caption=`` of ``show_table``/``table_html``);
* every markdown cell of the stage notebooks (the whole cell is one message);
* :data:`EXTRA` below (template labels).

Text known only at run time (headers of helper tables, values such as quadrant names) is
collected by running the reports with ``CSM_I18N_MISSING=FILE`` and passing ``--record FILE``.

``check`` also fails on f-strings given to those display helpers (they cannot be translated:
use ``_("... {x}", x=...)``) and on translations whose ``{placeholders}`` differ from the English.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import string
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "csm_helpers" / "locales"
LANGS = ("vi", "zh")
MARKERS = {"_", "tr", "N_"}
SHOWN = {"show_callout", "show_text"}           # first positional argument is translated
CAPTIONED = {"show_table", "table_html"}        # caption= is translated
#: Text of the report template and runner that is not in a Python literal call, and the
#: dimension names of the invisible scorecard (config.DIMENSIONS), shown as table values.
EXTRA = ["Summary", "Top priorities", "About the data", "Contents", "Chart", "Segment", "Wave", "n",
         "Generated", "product", "process", "people", "Product", "Process", "People", "main competitor",
         "95% interval", "p adj", "Received", "n previous", "n latest"]


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def scan_code(source: str, where: str) -> tuple[dict[str, str], list[str]]:
    """Messages (msgid -> first place) and problems (untranslatable f-strings) in Python source."""
    found: dict[str, str] = {}
    problems: list[str] = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        args: list[ast.expr] = []
        if name in MARKERS | SHOWN and node.args:
            args.append(node.args[0])
        if name in CAPTIONED:
            args.extend(k.value for k in node.keywords if k.arg == "caption")
        for arg in args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.setdefault(arg.value, f"{where}:{node.lineno}")
            elif isinstance(arg, ast.IfExp):  # "a" if cond else "b"
                for branch in (arg.body, arg.orelse):
                    if isinstance(branch, ast.Constant) and isinstance(branch.value, str):
                        found.setdefault(branch.value, f"{where}:{node.lineno}")
            elif isinstance(arg, ast.JoinedStr) and name not in MARKERS:
                problems.append(f"{where}:{node.lineno}: f-string passed to {name}(): use _('... {{x}}', x=...)")
    return found, problems


def collect() -> tuple[dict[str, str], list[str]]:
    """Every message of the code, the notebooks and :data:`EXTRA`, and the problems found."""
    import nbformat

    messages: dict[str, str] = {m: "template" for m in EXTRA}
    problems: list[str] = []
    for path in sorted((ROOT / "csm_helpers").rglob("*.py")):
        if path.name == "i18n.py":
            continue
        found, probs = scan_code(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
        problems += probs
        for k, v in found.items():
            messages.setdefault(k, v)
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            where = f"{path.relative_to(ROOT)}#cell{i}"
            if cell.cell_type == "markdown" and cell.source.strip():
                messages.setdefault(cell.source.strip(), where)
            elif cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", []):
                found, probs = scan_code(cell.source, where)
                problems += probs
                for k, v in found.items():
                    messages.setdefault(k, v)
    return messages, problems


def _fields(text: str) -> set[str]:
    try:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    except ValueError:
        return {"<unbalanced braces>"}


def _filled_translations() -> list[re.Pattern[str]]:
    """Patterns of translated messages with placeholders, to recognise them once filled in."""
    from csm_helpers.core.i18n import catalog

    pats = []
    for lang in LANGS:
        for msgid, msgstr in catalog(lang).items():
            if "{" in msgid:
                parts = re.split(r"\{[^{}]*\}", msgstr)
                pats.append(re.compile(".*?".join(re.escape(x) for x in parts), re.S))
    return pats


def _recorded(files: list[str], data_strings: set[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    filled = _filled_translations()
    for f in files:
        for line in Path(f).read_text(encoding="utf-8").splitlines():
            text = json.loads(line)
            if text in data_strings or re.fullmatch(r"[\w.-]+=[\w .-]+", text):
                continue
            words = [w for w in re.findall(r"[^\W\d_]+[\w'-]*", text) if not any(c.isdigit() for c in w)]
            if not any(len(w) >= 2 and w not in {"n", "vs"} for w in words):
                continue  # numbers, symbols, wave codes, hashes: nothing to translate
            if "{" not in text and re.search(r"\d[,.]\d|\d{3,}|=", text):
                continue  # a message already filled in with numbers: its template is recorded too
            if any(p.fullmatch(text) for p in filled):
                continue  # a translated message, filled in
            out.setdefault(text, "run-time")
    return out


def _sample_data_strings() -> set[str]:
    """Text that comes from the sample study's data and config (never a catalog message)."""
    import yaml

    sample = ROOT / "data" / "sample"
    out: set[str] = set()

    def walk(obj: object) -> None:
        if isinstance(obj, dict):
            for k, v in obj.items():
                walk(k)
                walk(v)
        elif isinstance(obj, list):
            for v in obj:
                walk(v)
        elif isinstance(obj, str):
            out.add(obj)

    for y in sample.glob("*.yaml"):
        walk(yaml.safe_load(y.read_text(encoding="utf-8")))
    import pandas as pd

    for c in sample.glob("*.csv"):
        df = pd.read_csv(c, dtype=str)
        for col in df.columns:
            out.add(col)
            out.update(df[col].dropna().unique().tolist())
    return out


def update(records: list[str]) -> int:
    import polib

    messages, problems = collect()
    if (LOCALES / "messages.pot").exists():  # keep what earlier --record runs found
        for e in polib.pofile(str(LOCALES / "messages.pot")):
            if any(where in {"run", "run-time"} for where, _line in e.occurrences):
                messages.setdefault(e.msgid, "run-time")
    if records:
        for k, v in _recorded(records, _sample_data_strings()).items():
            messages.setdefault(k, v)
    pot = polib.POFile(wrapwidth=0)
    pot.metadata = {"Project-Id-Version": "csm-workbook", "Content-Type": "text/plain; charset=UTF-8",
                    "Content-Transfer-Encoding": "8bit", "MIME-Version": "1.0"}
    for msgid, where in sorted(messages.items()):
        pot.append(polib.POEntry(msgid=msgid, msgstr="", occurrences=[(where, "")],
                                 flags=["python-brace-format"] if _fields(msgid) else []))
    pot.save(str(LOCALES / "messages.pot"))
    for lang in LANGS:
        path = LOCALES / f"{lang}.po"
        po = polib.pofile(str(path), wrapwidth=0) if path.exists() else polib.POFile(wrapwidth=0)
        if not path.exists():
            po.metadata = {**pot.metadata, "Language": lang}
        old = {e.msgid: e for e in po}
        keep = [e for e in po if e.msgid in messages and not e.obsolete]
        for msgid, where in sorted(messages.items()):
            if msgid not in old:
                keep.append(polib.POEntry(msgid=msgid, msgstr="", occurrences=[(where, "")]))
        new = polib.POFile(wrapwidth=0)
        new.metadata = po.metadata
        for e in sorted(keep, key=lambda e: e.msgid):
            new.append(e)
        new.save(str(path))
        todo = sum(1 for e in new if not e.msgstr)
        print(f"{lang}.po: {len(new)} messages, {todo} without a translation")
    for p in problems:
        print(p)
    return 0


def check() -> int:
    import polib

    messages, problems = collect()
    pot_ids = {e.msgid for e in polib.pofile(str(LOCALES / "messages.pot"))}
    missing_pot = sorted(set(messages) - pot_ids)
    for m in missing_pot:
        problems.append(f"not in messages.pot (run tools/i18n_catalog.py update): {messages[m]}: {m[:70]!r}")
    for lang in LANGS:
        po = {e.msgid: e for e in polib.pofile(str(LOCALES / f"{lang}.po"))}
        for msgid in sorted(pot_ids | set(messages)):
            e = po.get(msgid)
            if e is None or not e.msgstr or "fuzzy" in e.flags:
                problems.append(f"{lang}.po: no translation for {msgid[:70]!r}")
            elif _fields(e.msgstr) != _fields(msgid):
                problems.append(f"{lang}.po: placeholders {sorted(_fields(e.msgstr))} differ from "
                                f"{sorted(_fields(msgid))} in {msgid[:60]!r}")
    for p in problems:
        print(p)
    print(f"{len(pot_ids)} messages; {len(problems)} problem(s)")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("update")
    up.add_argument("--record", action="append", default=[], help="file written with CSM_I18N_MISSING")
    sub.add_parser("check")
    args = ap.parse_args(argv)
    return update(args.record) if args.cmd == "update" else check()


if __name__ == "__main__":
    sys.exit(main())
