"""``csm`` end to end: the sample study, a second study written by the test, bad input."""

from __future__ import annotations

import json
import textwrap

from csm_helpers.cli import main

from .conftest import ROOT, run_cli, write_small_study


def test_sample_run_writes_reports_metrics_index(sample_run):
    out, proc = sample_run
    assert (out / "index.html").is_file()
    for name in ("01_goal_setting.html", "02_discovery.html", "metrics.json",
                 "02_discovery_questionnaire.csv"):
        assert (out / "all" / name).is_file(), name
    assert not list(out.glob(".csm-staging-*"))
    assert not (out / "all" / "_stage_metrics").exists()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="all/01_goal_setting.html"' in index and 'href="all/02_discovery.html"' in index
    assert "01_goal_setting" in proc.stderr  # per-stage timing lines


def test_sample_metrics_contract(sample_run):
    out, _ = sample_run
    m = json.loads((out / "all" / "metrics.json").read_text(encoding="utf-8"))
    assert m["study"] == "Retail banking satisfaction 2026"
    assert m["segment"] == "all"
    assert m["n"] >= 2000
    gw = m["generated_with"]
    assert set(gw) >= {"version", "data_sha256", "parameters"}
    assert len(gw["data_sha256"]) == 64
    assert gw["parameters"]["segment"] == "all"
    assert m["discovery"]["saturated"] is True
    assert m["goals"]["self_assessment"]["max_points"] == 90
    assert m["suppressed"] == []
    # SPEC §3 keys of stages 03/04
    for kpi in ("csat_top2", "csi", "nps"):
        assert set(m["kpis"][kpi]) >= {"value", "ci_low", "ci_high", "n", "target", "met"}
        assert m["kpis"][kpi]["level"] == 0.95  # the sample's analysis.level, recorded with the interval
        assert m["kpis"][kpi]["ci_low"] <= m["kpis"][kpi]["value"] <= m["kpis"][kpi]["ci_high"]
    assert 0 <= m["kpis"]["csat_top2"]["value"] <= 1
    assert set(m["reliability"]) == {"product", "process", "people"}
    for entry in m["reliability"].values():
        assert set(entry) >= {"alpha", "ci_low", "ci_high", "n_items"}
    assert len(m["drivers"]) == 12
    assert {"attribute", "r", "beta", "relative_weight", "rw_pct", "rank"} <= set(m["drivers"][0])
    assert abs(sum(d["relative_weight"] for d in m["drivers"]) - m["drivers_r2"]) < 1e-9
    quadrants = {"Concentrate here", "Keep up the good work", "Low priority", "Possible overkill"}
    assert {e["quadrant"] for e in m["ipa"]} <= quadrants
    assert all(0 <= e["p_quadrant"] <= 1 for e in m["ipa"])  # the bootstrap probability of the quadrant
    assert all(0 < entry["omega_ci_low"] < entry["omega"] < entry["omega_ci_high"] < 1
               for entry in m["reliability"].values())
    assert {"attribute", "mean_gap", "p_value", "share_dissatisfied"} <= set(m["gaps"][0])
    analysis = (out / "all" / "04_analysis.html").read_text(encoding="utf-8")
    assert "Quadrant probability" in analysis and "bootstrap resamples" in analysis


def test_sample_metrics_match_the_ground_truth(sample_run):
    """The numbers in metrics.json agree with the generator's truth within their intervals."""
    out, _ = sample_run
    m = json.loads((out / "all" / "metrics.json").read_text(encoding="utf-8"))
    truth = json.loads((ROOT / "data" / "sample" / "truth.json").read_text(encoding="utf-8"))
    # the true top-3 drivers come out on top
    true_top = sorted(truth["driver_weights"], key=truth["driver_weights"].get, reverse=True)[:3]
    found_top = [d["attribute"] for d in sorted(m["drivers"], key=lambda d: d["rank"])[:3]]
    assert set(found_top) == set(true_top)
    # expectation gaps (latest wave, weighted): where the latest wave did not move perception,
    # the interval covers the true population gap for all but at most one attribute
    moved = {a for a, w in truth["wave_effects"]["performance"].items() if any(w.values())}
    stable = [g for g in m["gaps"] if g["attribute"] not in moved]
    covered = [g["ci_low"] <= truth["mean_gaps"][g["attribute"]] <= g["ci_high"] for g in stable]
    assert len(stable) >= 6 and sum(covered) >= len(covered) - 1, list(zip(stable, covered, strict=True))


def test_every_report_opens_with_the_same_summary(sample_run):
    out, _ = sample_run
    m = json.loads((out / "all" / "metrics.json").read_text(encoding="utf-8"))
    csat = f"{100 * m['kpis']['csat_top2']['value']:.1f}%"
    for page in sorted((out / "all").glob("*.html")):
        text = page.read_text(encoding="utf-8")
        if page.stem in ("01_goal_setting", "02_discovery"):  # before the survey: no KPI tiles
            assert '<div class="csm-tile ' not in text and "Top priorities" not in text, page.name
            continue
        assert text.count('<div class="csm-tile ') == 4, page.name  # CSAT, CSI, NPS and the satisfaction-model index
        assert csat in text.split('<nav', 1)[0], page.name  # the tile shows metrics.json's CSAT
        assert "Top priorities" in text and "About the data" in text
    # metrics.json carries the same summary, for the index page and the e-mail
    assert m["summary"]["tiles"][0]["value"] == csat


def test_reports_have_no_personal_data_or_code(sample_run):
    out, _ = sample_run
    import pandas as pd

    raw = pd.read_csv(ROOT / "data" / "sample" / "responses.csv", encoding="utf-8-sig")
    emails = raw["email"].dropna().astype(str).head(50).tolist()
    for page in (out / "all").glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "open_stage(" not in text and "study_path" not in text
        assert not any(e in text for e in emails), page.name
        assert len(text.encode()) < 2_000_000, f"{page.name} is {len(text.encode())} bytes"


def test_second_study_nothing_hard_wired(small_study, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", "--study", str(small_study), "--out", str(out)]) == 0
    m = json.loads((out / "all" / "metrics.json").read_text(encoding="utf-8"))
    assert m["study"] == "Bakery pulse" and m["n"] == 60
    html = (out / "all" / "02_discovery.html").read_text(encoding="utf-8")
    assert "Speed of service" in html
    # the hostile interview text is shown, escaped, never as markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html and "<img src=x" not in html
    summary = (out / "all" / "04_analysis.html").read_text(encoding="utf-8").split("<nav", 1)[0]
    assert summary.count('<div class="csm-tile ') == 2  # no recommend item: CSAT and CSI only
    assert "Unweighted estimates." in summary and "no previous wave" in summary
    q = (out / "all" / "02_discovery_questionnaire.csv").read_text(encoding="utf-8-sig")
    assert "perf_speed" in q
    assert main(["run", "--study", str(small_study), "--out", str(out), "--segment", "shop=Kowloon",
                 "--stages", "01"]) == 0
    seg = out / "shop=Kowloon"
    assert (seg / "01_goal_setting.html").is_file() and not (seg / "02_discovery.html").exists()
    assert json.loads((seg / "metrics.json").read_text())["segment"] == "shop=Kowloon"


def test_validate_ok(small_study, capsys):
    assert main(["validate", "--study", str(small_study)]) == 0
    assert "OK — 60 responses" in capsys.readouterr().out


def test_usage_error_exit_2():
    proc = run_cli("run", "--no-such-flag")
    assert proc.returncode == 2
    assert "usage: csm" in proc.stderr
    assert run_cli().returncode == 2


def test_bad_config_exit_1_no_traceback(tmp_path):
    study = write_small_study(tmp_path / "s")
    text = study.read_text().replace("overall: q_overall", "overal: q_overall")
    study.write_text(text)
    proc = run_cli("validate", "--study", str(study))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "key 'overall' is required" in proc.stderr
    assert "did you mean 'overall'" in proc.stderr


def test_bad_data_exit_1_names_file_row_column(tmp_path):
    study = write_small_study(tmp_path / "s")
    csv = study.parent / "answers.csv"
    lines = csv.read_text().splitlines()
    head = lines[0].split(",")
    row = lines[3].split(",")
    row[head.index("q_speed")] = "9"
    lines[3] = ",".join(row)
    csv.write_text("\n".join(lines) + "\n")
    proc = run_cli("run", "--study", str(study), "--out", str(tmp_path / "out"))
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "answers.csv" in proc.stderr and "q_speed" in proc.stderr and "row 4" in proc.stderr
    assert not (tmp_path / "out" / "all").exists()


def test_debug_shows_traceback(tmp_path):
    proc = run_cli("--debug", "validate", "--study", str(tmp_path / "missing.yaml"))
    assert proc.returncode == 1 and "Traceback" in proc.stderr


def test_failed_run_keeps_earlier_reports(small_study, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", "--study", str(small_study), "--out", str(out), "--quiet"]) == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    # Break the codebook: stage 01 would succeed, stage 02 must fail at load time.
    (small_study.parent / "codes.yaml").write_text("attributes: []\n")
    assert main(["run", "--study", str(small_study), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "codes.yaml" in err and "Traceback" not in err
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before


def test_notebook_failure_mid_run_leaves_nothing(small_study, tmp_path, capsys, monkeypatch):
    """A stage that fails after earlier stages succeeded: no file of the run is left behind."""
    from csm_helpers.core.errors import ReportError
    from csm_helpers.pipeline import run

    real = run.export_html
    calls = []

    def flaky(nb, meta):
        calls.append(meta["stage_title"])
        if len(calls) == 2:
            raise ReportError("simulated failure in stage 2")
        return real(nb, meta)

    monkeypatch.setattr(run, "export_html", flaky)
    out = tmp_path / "out"
    assert main(["run", "--study", str(small_study), "--out", str(out)]) == 1
    assert "simulated failure" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == []


def test_small_segment_is_suppressed(tmp_path, capsys):
    study = write_small_study(tmp_path / "s", n=40)
    import pandas as pd

    df = pd.read_csv(study.parent / "answers.csv")
    df.loc[df.index[:3], "shop"] = "Tiny"
    df.loc[df.index[3:], "shop"] = df.loc[df.index[3:], "shop"].replace("Tiny", "Kowloon")
    df.to_csv(study.parent / "answers.csv", index=False)
    assert main(["run", "--study", str(study), "--out", str(tmp_path / "o"), "--segment", "shop=Tiny"]) == 1
    assert "fewer than min_cell_size 5" in capsys.readouterr().err


def test_unknown_segment_value_and_column(small_study, tmp_path, capsys):
    assert main(["run", "--study", str(small_study), "--out", str(tmp_path), "--segment", "shop=Mars"]) == 1
    assert "has no respondents; values of 'shop': Kowloon, Shatin, Tsuen Wan" in capsys.readouterr().err
    assert main(["run", "--study", str(small_study), "--out", str(tmp_path), "--segment", "city=X"]) == 1
    assert "not one of the study's segment columns (shop)" in capsys.readouterr().err


def test_sample_command_writes_loadable_study(tmp_path, capsys):
    assert main(["sample", "--out", str(tmp_path / "s"), "--seed", "3", "--n", "300"]) == 0
    assert main(["validate", "--study", str(tmp_path / "s" / "study.yaml")]) == 0
    truth = json.loads((tmp_path / "s" / "truth.json").read_text())
    assert {"driver_weights", "segment_effects", "mean_gaps"} <= set(truth)


def test_console_script_declared():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'csm = "csm_helpers.cli:_entry"' in text
    assert textwrap.dedent("python3 dev.py test") in (ROOT / ".ci" / "run").read_text()


def test_validate_loads_no_plotting_library():
    """``csm validate`` (and the parent process of ``csm run``, which validates the same way)
    checks the data without pingouin, matplotlib or seaborn: their import cost half a second
    before a run's first stage could start."""
    import subprocess
    import sys

    code = ("import sys; from csm_helpers.pipeline.preflight import validate_study; "
            "assert validate_study().n_responses > 0; "
            "print(sorted(m for m in ('pingouin', 'matplotlib', 'seaborn', 'statsmodels') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT.parent, check=True)
    assert proc.stdout.strip() == "[]", proc.stdout


def test_a_stage_notebook_loads_no_plotting_library():
    """What a stage notebook imports, and the charts it draws, need neither matplotlib nor
    seaborn nor pingouin (the charts are SVG: present.charts.canvas; a segment comparison
    computes pingouin's formulas); each cost a warm kernel a second or more to import. A researcher's own matplotlib figure still works (display.show_figure)."""
    import json
    import subprocess
    import sys

    cells = []
    for path in sorted((ROOT / "notebooks").glob("0*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells += ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"][1:2]  # the imports
    code = "\n".join(line for cell in cells for line in cell.splitlines() if line.startswith(("from ", "import ")))
    code += ("\nimport pandas as pd\nfrom csm_helpers.present.charts.analysis import plot_drivers\n"
             "chart = plot_drivers(pd.DataFrame({'attribute': ['a'], 'relative_weight': [0.2], 'rw_pct': [100.0]}))\n"
             "d.show_figure(chart)\n"
             "from csm_helpers.analysis import segments\n"
             "segments.compare_means(pd.DataFrame({'y': [1, 2, 3, 4, 5, 2, 3, 4, 5, 5] * 2, 's': ['a'] * 10 + ['b'] * 10}),"
             " item='y', by='s')\nimport sys\n"
             "print(sorted(m for m in ('pingouin', 'matplotlib', 'seaborn', 'statsmodels') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT.parent, check=True)
    assert proc.stdout.strip().splitlines()[-1] == "[]", proc.stdout
    assert "from csm_helpers.present.charts" in code  # the notebooks' chart imports were read


def test_csm_skips_the_interpreter_teardown_but_not_what_exit_must_do(tmp_path):
    """The ``csm`` entry point ends the process without freeing every object first (0.4 to
    0.5 s after each command), yet what Python's exit does that matters still happens: a
    thread that is not a daemon is waited for, atexit handlers run, buffered output is
    written, and the exit code is the command's."""
    import subprocess
    import sys

    mark = tmp_path / "mark"
    code = textwrap.dedent(f"""
        import atexit, sys, threading, time
        atexit.register(lambda: open({str(mark)!r}, "a").write("atexit;"))
        def late():
            time.sleep(0.3)
            open({str(mark)!r}, "a").write("thread;")
        threading.Thread(target=late).start()
        sys.argv = ["csm", "validate"]
        from csm_helpers.cli import _entry
        _entry()
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "2,400" in proc.stdout + proc.stderr  # the command's own output, flushed
    assert mark.read_text() == "thread;atexit;"
    bad = subprocess.run([sys.executable, "-c", code.replace('"validate"', '"validate", "--study", "nowhere.yaml"')],
                         capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode == 1 and "nowhere.yaml" in bad.stderr
