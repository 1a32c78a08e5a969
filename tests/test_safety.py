from __future__ import annotations

import pandas as pd
import pytest

from csm_helpers.core.safety import atomic_write, neutralise_formula, to_safe_csv, write_text_atomic


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("x")'])
def test_formula_prefixes_neutralised(value):
    assert neutralise_formula(value) == "'" + value


@pytest.mark.parametrize("value", ["ok", "", "1=1", 5, -3.5, None])
def test_other_values_untouched(value):
    assert neutralise_formula(value) == value


def test_safe_csv_neutralises_cells_and_headers(tmp_path):
    df = pd.DataFrame({"=bad": ["=cmd", "fine"], "n": [-1, 2]})
    p = to_safe_csv(df, tmp_path / "x.csv")
    back = pd.read_csv(p, encoding="utf-8-sig")
    assert list(back.columns) == ["'=bad", "n"]
    assert back["'=bad"].tolist() == ["'=cmd", "fine"]
    assert back["n"].tolist() == [-1, 2]  # numbers stay numbers
    assert p.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM so Excel reads UTF-8
    assert df.columns.tolist() == ["=bad", "n"]  # caller's frame untouched


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "report.html"
    write_text_atomic(target, "old")
    with pytest.raises(RuntimeError), atomic_write(target) as fh:
        fh.write("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
