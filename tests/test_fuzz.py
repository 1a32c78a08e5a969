"""Property-based fuzzing (issue 6): any input is either read or refused with a clear error.

Loaders: arbitrary bytes under every extension, generated CSV text (random delimiters,
encodings, ragged rows, quotes, control characters, Qualtrics header rows), and damaged
Excel/SPSS/Parquet files go through ``io.read_table``; generated studies through
``io.load_responses``. Each call returns a Table or raises ``CsmError`` — any other exception
is a bug. ``csm validate`` and ``csm run`` (stage 04, the analysis) get generated studies with
random sizes, missing answers, answers out of range, text in numeric columns, duplicated ids
and segments below the minimum cell size: exit 0 with reports, or exit 1 with one clear
message and the output folder untouched — never a traceback, never a notebook that crashed.

``EXAMPLES`` counts the examples each test really ran (printed at the end of the module;
``pytest --hypothesis-show-statistics`` shows hypothesis's own figures).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from csm_helpers.cli import main
from csm_helpers.core.errors import CsmError
from csm_helpers.core.static_html import check_static_html
from csm_helpers.study.config import load_study
from csm_helpers.study.readers import Table, load_responses, read_table

from .corpus_tools import CORPUS, tree_digest

EXAMPLES: Counter[str] = Counter()
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                derandomize=True)


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    print("\nhypothesis examples run: " + ", ".join(f"{k} {v}" for k, v in sorted(EXAMPLES.items())))


def read_or_refuse(path: Path, label: str, **kw) -> Table | None:
    """read_table's contract: a Table, or a CsmError with a message naming the file."""
    try:
        table = read_table(path, **kw)
    except CsmError as exc:
        assert str(exc).strip() and path.name in str(exc), str(exc)
        EXAMPLES[f"{label}: refused"] += 1
        return None
    EXAMPLES[f"{label}: read"] += 1
    assert isinstance(table, Table) and len(table.data) > 0
    assert table.data.columns.is_unique
    assert table.row_numbers(list(range(len(table.data))))[0] >= table.first_data_row
    return table


# --------------------------------------------------------------------------- loaders
@settings(FUZZ, max_examples=300)
@given(data=st.binary(max_size=3000), ext=st.sampled_from([".csv", ".txt", ".tsv", ".xlsx", ".sav", ".parquet"]))
def test_arbitrary_bytes_are_read_or_refused(data, ext):
    EXAMPLES["loader: arbitrary bytes"] += 1
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"responses{ext}"
        path.write_bytes(data)
        read_or_refuse(path, "loader: arbitrary bytes")


cell_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
cells = st.one_of(cell_text, st.integers(-5, 120).map(str), st.sampled_from(["", "NA", " ", "4,5", "=1+1",
                                                                                 '"', '""', "\n", "a,b", "\x00"]))


@st.composite
def csv_files(draw):
    ncol = draw(st.integers(1, 6))
    header = draw(st.lists(st.one_of(st.sampled_from(["id", "q1", "q2", "region", ""]), cell_text),
                           min_size=ncol, max_size=ncol))
    rows = draw(st.lists(st.lists(cells, min_size=max(ncol - 1, 0), max_size=ncol + 1), max_size=15))
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_NONE, csv.QUOTE_ALL]))
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, quoting=quoting, escapechar="\\", lineterminator=draw(
        st.sampled_from(["\n", "\r\n", "\r"])))
    if draw(st.booleans()):  # Qualtrics header rows, sometimes out of order
        extra = [["question"] * ncol, ['{"ImportId":"QID1"}'] * ncol]
        if draw(st.booleans()):
            extra.reverse()
        rows = extra[:draw(st.integers(1, 2))] + rows
    for row in [header, *rows]:
        try:
            writer.writerow(row)
        except csv.Error:
            assume(False)
    text = buf.getvalue()
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]  # cut off anywhere
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1258", "gbk", "big5",
                                     "latin-1"]))
    try:
        raw = text.encode(encoding)
    except UnicodeEncodeError:
        raw = text.encode(encoding, errors="replace")
    declared = draw(st.sampled_from([None, None, None, encoding, encoding, "utf-8", "gbk", "cp1258",
                                     "no-such-codec"]))
    given_delimiter = draw(st.sampled_from([None, None, None, delimiter, ",", ";", "tab", "ab"]))
    return raw, declared, given_delimiter


@settings(FUZZ, max_examples=400)
@given(case=csv_files(), fmt=st.sampled_from(["auto", "auto", "csv", "qualtrics"]))
def test_generated_csv_files_are_read_or_refused(case, fmt):
    EXAMPLES["loader: generated CSV"] += 1
    raw, encoding, delimiter = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "responses.csv"
        path.write_bytes(raw)
        table = read_or_refuse(path, "loader: generated CSV", format=fmt, encoding=encoding, delimiter=delimiter)
        if table is not None:
            assert all(isinstance(c, str) and c == c.strip() for c in table.data.columns)


def _base_bytes(kind: str) -> bytes:
    return (CORPUS / "cases" / f"{kind}_ok" / f"answers.{'xlsx' if kind == 'xlsx' else 'sav'}").read_bytes()


@settings(FUZZ, max_examples=150)
@given(kind=st.sampled_from(["xlsx", "sav", "parquet"]), cut=st.floats(0, 1),
       flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=8))
def test_damaged_binary_exports_are_read_or_refused(kind, cut, flips):
    EXAMPLES["loader: damaged xlsx/sav/parquet"] += 1
    with tempfile.TemporaryDirectory() as tmp:
        if kind == "parquet":
            buf = io.BytesIO()
            pd.read_csv(CORPUS / "base" / "answers.csv").to_parquet(buf)
            data = bytearray(buf.getvalue())
        else:
            data = bytearray(_base_bytes(kind))
        for where, value in flips:
            data[int(where * (len(data) - 1))] = value
        data = data[: max(1, int(len(data) * cut))] if cut < 0.999 else data
        path = Path(tmp) / f"answers.{kind}"
        path.write_bytes(bytes(data))
        read_or_refuse(path, "loader: damaged xlsx/sav/parquet")


# --------------------------------------------------------------------------- generated studies
@st.composite
def studies(draw, *, clean: bool = False):
    """A study folder's files: responses with every kind of trouble, and its study.yaml.

    ``clean`` leans towards data that passes validation (what ``csm run`` should then analyse):
    trouble injected one time in four only, at most 30% missing answers per item, at least 5
    respondents.
    """
    n = draw(st.integers(5 if clean else 1, 70))
    n_groups = draw(st.integers(1, 5))
    weights = draw(st.lists(st.integers(1, 20), min_size=n_groups, max_size=n_groups))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    groups = rng.choice([f"G{i}" for i in range(n_groups)], size=n, p=np.array(weights) / sum(weights))
    scale = draw(st.sampled_from([(1, 5), (1, 7), (0, 10)]))
    items = ["q_a", "q_b", "q_c", "q_overall"]
    frame = pd.DataFrame({"rid": [f"r{i}" for i in range(n)], "grp": groups}, dtype=object)
    for col in items:
        values = rng.integers(scale[0], scale[1] + 1, size=n).astype(object)
        missing = rng.random(n) < draw(st.sampled_from([0.0, 0.1, 0.3] if clean else [0.0, 0.0, 0.1, 0.5, 1.0]))
        values[missing] = ""
        frame[col] = pd.Series(values, dtype=object)
    trouble = draw(st.sets(st.sampled_from(["out_of_range", "text", "duplicate_id", "missing_id", "fraction",
                                            "code_99", "empty_group"]), max_size=2))
    if clean and draw(st.integers(0, 3)):  # three times in four: nothing injected
        trouble = set()
    col = draw(st.sampled_from(items))
    row = draw(st.integers(0, n - 1))
    if "out_of_range" in trouble:
        frame.loc[row, col] = scale[1] + 1
    if "text" in trouble:
        frame.loc[row, col] = "very good"
    if "duplicate_id" in trouble and n > 1:
        frame.loc[row, "rid"] = frame.loc[(row + 1) % n, "rid"]
    if "missing_id" in trouble:
        frame.loc[row, "rid"] = ""
    if "fraction" in trouble:
        frame.loc[row, col] = scale[0] + 0.5
    if "code_99" in trouble:
        frame.loc[row, col] = 99
    if "empty_group" in trouble:
        frame.loc[row, "grp"] = ""
    config = {
        "name": "Fuzzed study", "min_cell_size": draw(st.integers(1, 8)), "seed": 3,
        "responses": {"file": "responses.csv", "id": "rid", "segments": ["grp"]},
        "scales": {"default": list(scale)}, "overall": "q_overall",
        "attributes": [{"id": "a", "label": "A", "dimension": "product", "performance": "q_a"},
                       {"id": "b", "label": "B", "dimension": "process", "performance": "q_b"},
                       {"id": "c", "label": "C", "dimension": "people", "performance": "q_c"}],
        "analysis": {"bootstrap": 100},
    }
    if draw(st.booleans()):
        config["responses"]["missing_codes"] = [99]
    return frame, config


def write_study(folder: Path, frame: pd.DataFrame, config: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / "responses.csv", index=False)
    (folder / "study.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return folder / "study.yaml"


@settings(FUZZ, max_examples=150)
@given(study=studies())
def test_generated_studies_load_or_are_refused(study):
    EXAMPLES["load_responses: generated studies"] += 1
    frame, config = study
    with tempfile.TemporaryDirectory() as tmp:
        path = write_study(Path(tmp), frame, config)
        try:
            table = load_responses(load_study(path))
        except CsmError as exc:
            assert "responses.csv" in str(exc)
            EXAMPLES["load_responses: refused"] += 1
            return
        EXAMPLES["load_responses: loaded"] += 1
        assert len(table.data) == len(frame)


def assert_clean_failure(err: str) -> None:
    assert "Traceback" not in err
    assert err.startswith("csm: error: ") and err.count("csm: error") == 1, err
    assert "failed in cell" not in err, f"a notebook crashed (a bug, not bad input):\n{err}"


@settings(FUZZ, max_examples=120)
@given(study=studies())
def test_csm_validate_on_generated_studies(study):
    EXAMPLES["csm validate: generated studies"] += 1
    frame, config = study
    with tempfile.TemporaryDirectory() as tmp:
        path = write_study(Path(tmp), frame, config)
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["validate", "--study", str(path)])
        assert code in (0, 1)
        EXAMPLES[f"csm validate: exit {code}"] += 1
        if code == 1:
            assert_clean_failure(err.getvalue())


@pytest.mark.slow
@settings(FUZZ, max_examples=8)
@given(study=studies(clean=True))
def test_csm_run_on_generated_studies(study):
    EXAMPLES["csm run (stage 04): generated studies"] += 1
    frame, config = study
    with tempfile.TemporaryDirectory() as tmp:
        path = write_study(Path(tmp) / "study", frame, config)
        out = Path(tmp) / "reports"
        (out / "all").mkdir(parents=True)
        (out / "all" / "04_analysis.html").write_text("<p>earlier report</p>", encoding="utf-8")
        before = tree_digest(out)
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["run", "--study", str(path), "--out", str(out), "--stages", "04", "--quiet"])
        assert code in (0, 1)
        if code == 1:
            EXAMPLES["csm run: refused with a clear error"] += 1
            assert_clean_failure(err.getvalue())
            assert tree_digest(out) == before
            return
        EXAMPLES["csm run: reports written"] += 1
        page = (out / "all" / "04_analysis.html").read_text(encoding="utf-8")
        check_static_html(page)
        assert "Traceback" not in page
        metrics = json.loads((out / "all" / "metrics.json").read_text(encoding="utf-8"))
        assert metrics["n"] == len(frame)
        shutil.rmtree(out)
