"""Write the stage notebooks from the cell lists below (outputs empty, parameters tagged).

The notebooks are the product; this script only keeps their JSON tidy and diff-friendly.
Run ``python tools/make_notebooks.py`` after editing a cell here, or edit the notebooks in
JupyterLab and strip outputs before committing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]

PARAMS = '''study_path: str = ""  # path of study.yaml; empty for the bundled sample study
segment: str = "all"  # "all", or one segment: COLUMN and VALUE joined by an equals sign
output_dir: str = ""  # folder for files written beside the report; empty to write no files'''


def md(text: str):
    return new_markdown_cell(text.strip())


def code(text: str, *tags: str):
    cell = new_code_cell(text.strip())
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


STAGE_01 = [
    md("""
# Goal-setting

A customer-satisfaction programme starts with leaders agreeing what they need to know, how
they will use it and who owns the results. This report records that agreement: the study
charter, the KPI targets every later report is compared to, the readiness of the eleven
goal-setting steps, and the team's self-assessment of the customer category of the
performance-excellence criteria.
"""),
    code(PARAMS, "parameters"),
    code('''
from csm_helpers import display as d, goals as g, plots
from csm_helpers.appendix import input_files, methods_table, parameters_table, software_versions
from csm_helpers.workbook import open_stage

plots.set_report_style()
ctx = open_stage("01_goal_setting", study_path=study_path, segment=segment, output_dir=output_dir)
goals = ctx.goals  # None when the study names no goals file: every table says what is missing
'''),
    md("""
## Study charter

The objectives, owners and strategy links the leadership team agreed, and who receives which report.
"""),
    code('''
d.show_table(g.charter_table(goals), caption="Charter", rename={"section": "Section", "item": "Item"})
d.show_table(g.audiences_table(goals), caption="Report audiences",
             rename={"report": "Report", "audience": "Audience"})
'''),
    md("""
## KPI targets

Each later report shows every KPI against these targets (met / not met) and against the previous wave.
CSAT is the share of top-two-box answers, CSI a 0–100 index, NPS runs from −100 to +100.
"""),
    code('''
kpis = g.kpi_targets_table(goals)
d.show_table(kpis, caption="KPI targets", formats={"target": "{:g}"})
'''),
    md("""
## Readiness checklist

The eleven goal-setting steps, each with its status and owner. The programme is ready to move to
discovery when every step is done or not applicable.
"""),
    code('''
checklist = g.readiness_checklist(goals)
summary = g.readiness_summary(checklist)
d.show_callout(g.readiness_message(summary), kind="ok" if summary["ready"] else "warn")
d.show_table(checklist, caption="Goal-setting steps", formats={"status": g.status_label})
d.show_figure(plots.plot_readiness(checklist))
'''),
    md("""
## Performance-excellence self-assessment

The team scores each sub-item of the customer category from 0 % to 100 % in 10 % steps; the score
in points is the item's weight times that percentage. The gap to the maximum shows where the
customer-focus system is weakest.
"""),
    code('''
assessment = g.self_assessment(goals)
assessment_summary = g.self_assessment_summary(assessment)
d.show_callout(g.self_assessment_message(assessment_summary))
d.show_table(assessment[["item", "label", "points", "score_pct", "score_points", "gap_points", "evidence"]],
             caption="Self-assessment by item",
             rename={"score_pct": "Score %", "score_points": "Score (points)", "gap_points": "Gap (points)"},
             formats={"points": "{:g}", "score_pct": "{:.0f}%", "score_points": "{:.1f}", "gap_points": "{:.1f}"})
d.show_figure(plots.plot_self_assessment(assessment))
'''),
    code('''
ctx.record_metrics({"goals": {
    "kpi_targets": kpis.to_dict(orient="records"),
    "readiness": summary,
    "self_assessment": assessment_summary,
}})
''', "hide-output"),
    md("""
## Methods appendix

How each figure above was produced, the parameters and software used, and the fingerprint
(SHA-256) of every input file, so that the report can be reproduced and audited.
"""),
    code('''
d.show_table(methods_table(["kpi_targets", "readiness", "self_assessment"]), caption="Methods")
d.show_table(parameters_table(ctx.study, segment=ctx.segment), caption="Parameters")
d.show_table(software_versions(), caption="Software")
d.show_table(input_files(ctx.study), caption="Input files")
'''),
]

STAGE_02 = [
    md("""
# Discovery

Discovery finds **what** matters to customers, not yet how much. Interviews and focus groups with
customers, lost customers and competitors' customers are coded into attributes with the study's
codebook; interviews with executives and customer-contact staff show where the company's view
differs from the customers'. The attributes customers raise become the draft questionnaire.
"""),
    code(PARAMS, "parameters"),
    code('''
from csm_helpers import discovery as disc, display as d, plots
from csm_helpers.appendix import input_files, methods_table, parameters_table, software_versions
from csm_helpers.workbook import open_stage

plots.set_report_style()
ctx = open_stage("02_discovery", study_path=study_path, segment=segment, output_dir=output_dir)
interviews, codebook = disc.require_inputs(ctx.interviews, ctx.codebook, study=ctx.study)
k = ctx.study.discovery.saturation_k
if ctx.segment != "all":
    d.show_callout("Discovery interviews are not segmented: this section covers the whole study.")
'''),
    md("""
## Interviews

Who was interviewed, by source group. Customer-side groups define the attributes; company-side
groups (executives, customer-contact staff) are interviewed only to find perception gaps.
"""),
    code('''
d.show_table(disc.interview_summary(interviews), caption="Interviews by source group",
             formats={"share": d.fmt_pct})
'''),
    md("""
## Coding of the verbatims

Each interview is coded into attributes with the codebook's keywords and patterns (in any language,
including Chinese and Vietnamese) plus any manual codes. The first table counts how each attribute was
found; the second shows, for each, what a customer actually said.
"""),
    code('''
coded = disc.code_verbatims(interviews, codebook=codebook)
d.show_table(disc.coding_summary(coded), caption="Coded mentions by attribute and how they were found")
d.show_table(disc.example_verbatims(coded, interviews, per_attribute=1),
             caption="What customers said: one verbatim per attribute (customer-side interviews, no ids)")
'''),
    md("""
## Affinity diagram

Attributes grouped under the three dimensions of the customer's invisible scorecard — product,
process and people — with the number of interviews that mention each.
"""),
    code('''
affinity = disc.affinity_table(coded, interviews, codebook=codebook)
d.show_table(affinity, caption="Affinity diagram", formats={"share": d.fmt_pct})
d.show_figure(plots.plot_affinity(affinity))
'''),
    md("""
## Perception gap: company vs customers

For each attribute, the share of customer-side interviews that mention it against the share of
company-side interviews. A large positive gap means the company under-rates something customers
care about; a large negative gap means the company over-rates it.
"""),
    code('''
gap = disc.perception_gap(coded, interviews, codebook=codebook)
for line in disc.gap_findings(gap):
    d.show_callout(line, kind="warn")
d.show_table(gap, caption="Perception gap",
             formats={"share_customer": d.fmt_pct, "share_company": d.fmt_pct,
                      "gap": "{:+.2f}", "p_value": "{:.3f}"})
d.show_figure(plots.plot_perception_gap(gap))
'''),
    md("""
## Saturation

Distinct attributes found, interview by interview. Discovery is saturated when the last interviews
added nothing new; if not, more interviews are needed before the questionnaire is final.
"""),
    code('''
curve = disc.saturation_curve(coded, interviews, k=k)
verdict = disc.saturation_verdict(curve, k=k)
d.show_callout(verdict["message"], kind="ok" if verdict["saturated"] else "warn")
d.show_figure(plots.plot_saturation(curve, verdict))
'''),
    md("""
## Draft questionnaire

For every attribute customers raised: a performance, an importance and an expectation item. The
table is also written as a CSV file next to this report, ready to load into the survey tool.
"""),
    code('''
questionnaire = disc.draft_questionnaire(affinity, scale=ctx.study.discovery.questionnaire_scale)
csv_path = ctx.output_path("02_discovery_questionnaire.csv")
if csv_path is not None:
    disc.write_questionnaire_csv(questionnaire, csv_path)
    d.show_callout(f"Written to {csv_path.name} beside this report ({len(questionnaire)} items).")
d.show_table(questionnaire[["item_name", "dimension", "item_type", "question", "anchor_low", "anchor_high"]],
             caption=f"Draft questionnaire (scale {questionnaire['scale_min'].iloc[0]}–"
                     f"{questionnaire['scale_max'].iloc[0]})" if len(questionnaire) else "Draft questionnaire")
'''),
    code('''
ctx.record_metrics({"discovery": {
    "n_interviews": len(interviews),
    "n_attributes": int((affinity["mentions"] > 0).sum()),
    "saturated": verdict["saturated"],
    "saturation_k": k,
    "perception_gaps": gap[["attribute", "share_customer", "share_company", "gap", "flag"]]
                        .to_dict(orient="records"),
    "questionnaire_items": len(questionnaire),
}})
''', "hide-output"),
    md("""
## Methods appendix

How each figure above was produced, the parameters and software used, and the fingerprint
(SHA-256) of every input file.
"""),
    code('''
d.show_table(methods_table(["coding", "affinity", "perception_gap", "saturation", "questionnaire"]),
             caption="Methods")
d.show_table(parameters_table(ctx.study, segment=ctx.segment, saturation_k=k), caption="Parameters")
d.show_table(software_versions(), caption="Software")
d.show_table(input_files(ctx.study), caption="Input files")
'''),
]

NOTEBOOKS = {"01_goal_setting": STAGE_01, "02_discovery": STAGE_02}


def _check_parameters(source: str) -> None:
    # papermill cannot parse a parameter line with a second "=" (e.g. in its comment)
    for line in source.splitlines():
        if line.count("=") != 1:
            raise SystemExit(f"parameters line must hold exactly one '=': {line!r}")


def build(name: str, cells: list) -> str:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{name[:2]}-{i:02d}"
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the notebooks; with ``--check`` only report (exit 1) those that differ."""
    check = "--check" in (argv if argv is not None else sys.argv[1:])
    _check_parameters(PARAMS)
    stale = []
    for name, cells in NOTEBOOKS.items():
        path = ROOT / "notebooks" / f"{name}.ipynb"
        text = build(name, cells)
        if check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"notebooks differ from tools/make_notebooks.py: {', '.join(stale)} — run "
              "python tools/make_notebooks.py (or copy your JupyterLab edits into it)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
