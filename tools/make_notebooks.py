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
from csm_helpers.i18n import tr
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
from csm_helpers.i18n import tr
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
    d.show_callout(tr("Written to {file} beside this report ({n} items).", file=csv_path.name, n=len(questionnaire)))
d.show_table(questionnaire[["item_name", "dimension", "item_type", "question", "anchor_low", "anchor_high"]],
             caption=tr("Draft questionnaire (scale {low}–{high})", low=questionnaire["scale_min"].iloc[0],
                        high=questionnaire["scale_max"].iloc[0]) if len(questionnaire) else "Draft questionnaire")
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

STAGE_03 = [
    md("""
# Measurement

How good is the survey data? This report checks that enough customers answered in every
segment, that the sample looks like the customer base (and corrects it with weights where
it does not), which answers were unusable and set aside, whether the items of each
dimension measure one thing reliably, and how customers answered every question.
"""),
    code(PARAMS, "parameters"),
    code('''
from csm_helpers import display as d, measurement as m, plots, plots_measurement as pm, views as v
from csm_helpers.appendix import input_files, methods_table, parameters_table, software_versions
from csm_helpers.metrics import reliability_entry
from csm_helpers.i18n import tr
from csm_helpers.workbook import open_stage

plots.set_report_style()
ctx = open_stage("03_measurement", study_path=study_path, segment=segment, output_dir=output_dir)
study, settings = ctx.study, ctx.study.measurement
data = ctx.analysis_data
'''),
    md("""
## Sample size and response

For each segment: the sample size needed for the target margin of error at 95 % confidence
(with the finite-population correction), the responses received and the response rate over the
study, and — for each wave, on the responses kept after the data-quality checks and on the
effective sample size the weights leave — the margin of error the reported figures actually have.
"""),
    code('''
if ctx.population is None:
    d.show_callout("The study gives no population sizes (key 'population'): sample sizes and response "
                   "rates cannot be assessed against the customer base.", kind="warn")
else:
    for column in ctx.population_segments:
        sampling = m.sampling_table(data, by=column, population=ctx.population, e=settings.margin_of_error,
                                    p=settings.p, weights=ctx.weights, wave=study.responses.wave,
                                    received=ctx.responses)
        d.show_table(sampling, caption=tr("Sample size and response by {column}", column=column),
                     formats={"response_rate": d.fmt_pct, "achieved_moe": lambda x: d.fmt_pct(x, 1),
                              "target_moe": lambda x: d.fmt_pct(x, 1), "n_eff": "{:,.0f}",
                              "required_n": "{:,.0f}", "population": "{:,.0f}", "invited": "{:,.0f}"})
        d.show_figure(pm.plot_sampling(sampling))
'''),
    md("""
## Representativeness and weights

A chi-square goodness-of-fit test compares the sample's mix with the customer base. Where
population margins are given, raking (iterative proportional fitting) weights the answers so
that every margin is matched; Kish's effective sample size says how much precision the
weighting costs.
"""),
    code('''
if ctx.population is not None:
    for column in ctx.population_segments:
        mix, test = m.representativeness(ctx.responses, by=column, population=ctx.population)
        d.show_callout(v.representativeness_message(test))
        d.show_table(mix, caption=tr("Sample vs population mix by {column}", column=column),
                     formats={"sample_share": d.fmt_pct, "population_share": d.fmt_pct, "expected_n": "{:,.1f}",
                              "residual": "{:+.2f}"})
weight_info = None
if ctx.weights:
    w = ctx.kept_responses[ctx.weights]
    weight_info = m.weight_summary(w)
    d.show_table(m.weights_table(w), caption="Weights used in every estimate")
    d.show_figure(pm.plot_weights(w))
else:
    d.show_callout("No weights: every estimate is unweighted (no weight column and no population margins).")
'''),
    md("""
## Data quality

Every response is checked for answers outside their scale, missing answers, straight-lining
(the same answer to every item of the rating grid), speeding (a completion time below a third
of the median) and duplicates. Responses flagged by the checks listed as excluded are set
aside before any analysis.
"""),
    code('''
flags = ctx.quality_flags
quality = m.quality_summary(flags, exclude=list(settings.exclude))
d.show_callout(tr("{dropped:,} of {total:,} responses were set aside; {kept:,} are analysed.",
                  dropped=len(ctx.all_responses) - len(ctx.kept_responses), total=len(ctx.all_responses),
                  kept=len(ctx.kept_responses)))
d.show_table(m.quality_display(quality), caption="Data-quality checks (whole study)", formats={"share": d.fmt_pct})
d.show_callout(v.exclusion_message(ctx.exclusion_table, min_n=study.min_cell_size))
d.show_table(m.missing_by_item(ctx.responses, study), caption="Missing answers by item",
             formats={"share_missing": d.fmt_pct}, max_rows=60)
'''),
    md("""
## Reliability

Cronbach's alpha for the performance items of each dimension of the invisible scorecard, with
its 95 % confidence interval (Feldt). An alpha below 0.7 means the items do not hang together
well enough to be summarised as one score. For every item: its correlation with the rest of
its dimension, and the alpha the dimension would have without it.
"""),
    code('''
dimensions = m.study_dimensions(study)
rel = m.reliability(data, dimensions=dimensions)
d.show_table(rel, caption="Reliability by dimension (Cronbach's alpha)",
             formats={"alpha": "{:.3f}", "ci_low": "{:.3f}", "ci_high": "{:.3f}"})
for dimension, items in dimensions.items():
    d.show_table(m.item_analysis(data, items=items), caption=tr("Item analysis: {dimension}", dimension=tr(dimension)),
                 formats={"mean": "{:.2f}", "sd": "{:.2f}", "corrected_item_total_r": "{:.3f}",
                          "alpha_if_deleted": "{:.3f}"})
'''),
    md("""
## How customers answered

The distribution of every rating item: disagreement to the left of the centre line, agreement
to the right, sorted by the share in the top two boxes.
"""),
    code('''
for kind, items in ctx.item_groups.items():
    scale = study.scale_for(items[0], kind)
    dist = m.likert_distribution(data, items=items, scale=scale, weights=ctx.weights, labels=ctx.labels)
    d.show_figure(pm.plot_likert(dist), alt=tr("Distribution of the {kind} items", kind=tr(kind)))
'''),
    code('''
ctx.record_metrics({
    "reliability": reliability_entry(rel),
    "measurement": {
        "n_responses": len(ctx.all_responses), "n_analysed": len(ctx.kept_responses),
        "excluded": quality.to_dict(orient="records"),
        "weights": weight_info,
    },
})
''', "hide-output"),
    md("""
## Methods appendix

How each figure above was produced, the parameters and software used, and the fingerprint
(SHA-256) of every input file.
"""),
    code('''
d.show_table(methods_table(["sample_size", "representativeness", "raking", "quality", "reliability",
                            "likert"]), caption="Methods")
d.show_table(parameters_table(study, segment=ctx.segment, margin_of_error=settings.margin_of_error,
                              excluded=", ".join(settings.exclude) or "none"), caption="Parameters")
d.show_table(software_versions(), caption="Software")
d.show_table(input_files(study), caption="Input files")
'''),
]


STAGE_04 = [
    md("""
# Analysis

What customers think, why, and what matters most. The headline KPIs with their confidence
intervals against target and the previous wave; the invisible scorecard of product, process
and people; where perception falls short of expectation; which attributes drive overall
satisfaction and where they sit on the importance–performance grid; how segments differ;
loyalty, complaints, why customers leave, market indicators, what customers wrote, and how
the company compares with its main competitor.
"""),
    code(PARAMS, "parameters"),
    code('''
from csm_helpers import complaints as cx, display as d, kpis, loyalty, plots, segments
from csm_helpers import plots_analysis as pa, plots_kpis as pk, plots_voice as pv, themes, views as v
from csm_helpers.appendix import input_files, methods_table, parameters_table, software_versions
from csm_helpers.measurement import study_dimensions
from csm_helpers.metrics import drivers_entry, gaps_entry, ipa_entry, kpis_entry, suppressed_entries
from csm_helpers.i18n import tr
from csm_helpers.workbook import open_stage

plots.set_report_style()
ctx = open_stage("04_analysis", study_path=study_path, segment=segment, output_dir=output_dir)
study, opts = ctx.study, ctx.study.analysis
data, w, min_n = ctx.current, ctx.weights, study.min_cell_size
common, boot, satisfaction = ctx.common, ctx.boot, ctx.satisfaction
suppressed = []
d.show_callout(tr("Latest wave: {wave} · n = {n:,} respondents", wave=ctx.latest_wave or tr("single wave"), n=len(data))
               + " · " + (tr("weighted estimates (raking to population margins)") if w else tr("unweighted")))
'''),
    md("""
## Headline KPIs

CSAT is the share of customers in the top two boxes of overall satisfaction (Wilson interval);
CSI averages each customer's satisfaction answers on a 0–100 scale; NPS is the share of
promoters (9–10) minus detractors (0–6) on the recommend question (adjusted-Wald interval).
Each is shown with its 95 % interval against the target agreed in goal-setting.
"""),
    code('''
summary = ctx.kpi_table
d.show_table(v.kpi_display(summary), caption="Headline KPIs")
d.show_callout(v.exclusion_message(ctx.exclusion_table, min_n=min_n))
d.show_figure(pk.plot_kpis(summary, level=opts.level, min_n=min_n)[0])
csat_detail = ctx.csat_detail
d.show_table(csat_detail[["n", "value", "bottom2", "mean"]], caption="Top-2 box, bottom-2 box and mean (means hide bimodality)",
             rename={"value": "Top-2 box", "bottom2": "Bottom-2 box", "mean": "Mean"},
             formats={"value": d.fmt_pct, "bottom2": d.fmt_pct, "mean": "{:.2f}"})
'''),
    md("""
## Change since the previous wave

The same KPIs in the previous wave, the change, and whether it is larger than chance:
two-proportion z-test for CSAT, Welch's t-test for CSI, a z-test on the NPS difference.
"""),
    code('''
change = ctx.kpi_change_table
if change is None:
    d.show_callout("Only one wave in the data: there is no previous wave to compare with.")
else:
    d.show_table(v.change_display(change), caption=tr("{previous} → {latest}", previous=ctx.previous_wave, latest=ctx.latest_wave))
    d.show_figure(pk.plot_kpi_change(change, level=opts.level, min_n=min_n)[0])
'''),
    md("""
## The invisible scorecard

Customers judge a company on three things: the **product** they buy, the **process** of dealing
with the company, and the **people** who serve them. Each dimension's score is the CSI (0–100)
of its performance items.
"""),
    code('''
card = ctx.scorecard_table
d.show_table(card, caption="Invisible scorecard (0–100)", formats=v.SCORE_FORMATS)
d.show_figure(pk.plot_scorecard(card, level=opts.level, min_n=min_n))
'''),
    md("""
## Expectation and perception

Satisfaction is a comparison: for each attribute, each customer's perceived performance minus
what they expected. A negative gap breeds complaints; meeting expectations satisfies; exceeding
them builds loyalty.

Every attribute is tested, so some gaps would pass a 5 % test by chance alone: beside each raw
p-value the table gives the p-value adjusted over the attributes (Benjamini–Hochberg), and the
filled points of the chart are the gaps significant after that adjustment.
"""),
    code('''
gap_table = ctx.gap_table
if gap_table is None:
    d.show_callout("The study has no expectation items: the expectation–perception gap cannot be measured.")
else:
    shown = v.with_labels(gap_table, ctx.attribute_labels)
    d.show_table(shown[["attribute", "n", "mean_perception", "mean_expectation", "mean_gap", "ci_low", "ci_high",
                        "p_value", "p_adj", "cohen_dz", "share_dissatisfied", "share_satisfied", "share_delighted", "suppressed"]],
                 caption="Perception minus expectation (paired)", formats=v.GAP_FORMATS, rename=v.p_headers(gap_table))
    d.show_figure(pa.plot_gaps(gap_table, labels=ctx.attribute_labels))
    d.show_figure(pa.plot_gaps(gap_table, kind="shares", labels=ctx.attribute_labels))
'''),
    md("""
## Key drivers of overall satisfaction

How strongly each attribute's rating goes with overall satisfaction: Pearson r, the standardised
regression beta, and Johnson's relative weight — each attribute's share of the explained
variance R², which stays meaningful when attributes are correlated. Whiskers are 95 %
bootstrap intervals.
"""),
    code('''
driver_table = ctx.driver_table
if driver_table.attrs.get("suppressed"):
    d.show_callout(driver_table.attrs["suppressed_reason"], kind="warn")
else:
    shown = driver_table.assign(label=driver_table["attribute"].map(ctx.attribute_labels)).sort_values("rank")
    d.show_table(shown[["rank", "label", "n", "r", "beta", "relative_weight", "rw_pct", "rw_ci_low", "rw_ci_high"]],
                 caption=tr("Key drivers (R² = {r2:.2f})", r2=driver_table.attrs["r2"]), formats=v.DRIVER_FORMATS)
    d.show_figure(pa.plot_drivers(driver_table, labels=ctx.attribute_labels))
'''),
    md("""
## Importance–performance analysis

Each attribute placed by its performance (x) and its importance (y), with cross-hairs at the
averages. **Concentrate here**: important and under-performing — the first place to act.
**Keep up the good work**: important and performing. **Low priority**: neither.
**Possible overkill**: performing well on what matters less.
"""),
    code('''
mode = ctx.importance_mode
ipa_table = ctx.ipa_table
if ipa_table["suppressed"].all():
    d.show_callout(ipa_table.attrs.get("suppressed_reason") or
                   tr("No attribute has enough answers in this report for an importance–performance analysis."),
                   kind="warn")
else:
    d.show_table(ipa_table[["label", "dimension", "performance", "importance", "quadrant", "suppressed"]],
                 caption=tr("Importance–performance ({kind} importance)", kind=tr(ipa_table["importance_type"].iloc[0])),
                 formats={"performance": "{:.2f}", "importance": "{:.3f}" if mode == "derived" else "{:.2f}"})
    d.show_figure(pa.plot_ipa(ipa_table.loc[~ipa_table["suppressed"]]))
'''),
    md("""
## Segment comparison

Overall satisfaction across segments: Welch's ANOVA with Games-Howell pairwise comparisons
(means), Kruskal-Wallis (ranks), and a chi-square test on the top-2-box share, with
Holm-corrected pairwise tests. Segments with fewer respondents than the minimum cell size are
not shown.
"""),
    code('''
if ctx.segment != "all":
    d.show_callout("This report covers one segment; segment comparisons are in the report for all customers.")
else:
    for column in study.responses.segments:
        means = segments.compare_means(data, item=study.overall, by=column, **common)
        top = segments.compare_top_box(data, item=study.overall, by=column,
                                       scale=study.scale_for(study.overall, "overall"), top_box=opts.top_box,
                                       weights=w, level=opts.level, min_n=min_n)
        suppressed += suppressed_entries(means["groups"], name=f"segment comparison by {column}",
                                         group="group", min_n=min_n)
        d.show_text(tr("By {column}", column=column), tag="h3")
        for line in v.segment_findings(means, top):
            d.show_callout(line)
        d.show_figure(pk.plot_segment_means(means, label=column, level=opts.level, min_n=min_n))
        for caption, (table, formats) in v.segment_tables(means, top).items():
            d.show_table(table, caption=caption, formats=formats)
'''),
    md("""
## Loyalty

The Dick & Basu matrix crosses relative attitude (would recommend) with repeat patronage:
**Loyalty** (both high), **Latent loyalty** (positive attitude, little repeat business),
**Spurious loyalty** (repeat business without attachment — at risk), **No loyalty**.
"""),
    code('''
attitude = study.recommend if opts.loyalty_attitude == "recommend" and study.recommend else study.overall
if study.loyalty.repeat:
    quadrants = ctx.gate(loyalty.dick_basu(data, attitude=attitude, repeat=study.loyalty.repeat,
                                           attitude_rule="promoter" if attitude == study.recommend else "top2",
                                           attitude_scale=study.scale_for(attitude, "overall"), **common),
                         [attitude, study.loyalty.repeat], keep=["quadrant"])
    d.show_table(quadrants, caption="Dick & Basu loyalty matrix", formats=v.SHARE_FORMATS)
    d.show_figure(pv.plot_loyalty_matrix(quadrants))
else:
    d.show_callout("No repeat-purchase item (key loyalty.repeat): the loyalty matrix cannot be drawn.")
measures = ctx.gate_rows(loyalty.loyalty_measures(data, study=study, **common), key="source",
                         keep=["measure", "label", "definition"])
if len(measures):
    d.show_table(measures[["label", "value", "ci_low", "ci_high", "n", "definition"]], caption="Loyalty measures",
                 formats=v.SHARE_FORMATS)
'''),
    md("""
## Complaints

The complaint log: how many, about what (Pareto), how valid, how fast they are resolved
against the service-level target, who complains repeatedly, and how the follow-up went. Formal
complaints are only the tip of the iceberg: most dissatisfied customers never complain.
"""),
    code('''
complaint_rate = None
if study.complaints is None:
    d.show_callout("The study has no complaint log (key 'complaints').")
else:
    log, segmented = ctx.segment_table("complaints")
    if not segmented:
        d.show_callout("The complaint log has no segment column: figures are company-wide.", kind="warn")
    cs = cx.complaint_summary(log, spec=study.complaints, customers=study.market.customers,
                              sla_days=opts.sla_days, min_n=min_n)
    complaint_rate = cs.get("complaint_rate")
    d.show_table(v.overview_display(cs["overview"]), caption="Complaint handling")
    if not cs["suppressed"]:
        d.show_table(cs["pareto"], caption="Complaints by category (Pareto)",
                     formats={"share": d.fmt_pct, "cumulative_share": d.fmt_pct})
        d.show_figure(pv.plot_pareto(cs["pareto"]))
        iceberg = cx.complaint_iceberg(cs["n_complaints"], formal=opts.iceberg.formal,
                                       elsewhere=opts.iceberg.elsewhere, silent=opts.iceberg.silent)
        d.show_table(iceberg, caption="The complaint iceberg", formats={"share": d.fmt_pct,
                                                                      "estimated_customers": "{:,.0f}"})
        d.show_figure(pv.plot_iceberg(iceberg))
'''),
    md("""
## Why customers leave

Reasons given by lost customers against the classic benchmark (1 % die, 3 % move away, 5 % form
other relationships, 9 % are lured by competitors, 14 % are dissatisfied with the product,
68 % leave because of staff indifference), with a chi-square goodness-of-fit test.
"""),
    code('''
if study.lost_customers is None:
    d.show_callout("The study has no lost-customer file (key 'lost_customers').")
else:
    lost, segmented = ctx.segment_table("lost_customers")
    if not segmented:
        d.show_callout("The lost-customer file has no segment column: figures are company-wide.", kind="warn")
    reasons, fit = cx.lost_reasons(lost, reason=study.lost_customers.reason, benchmark=opts.lost_benchmark,
                                   min_n=min_n, seed=study.seed)
    d.show_callout(v.lost_message(fit))
    d.show_table(reasons, caption="Reasons for leaving vs benchmark",
                 formats={"share": d.fmt_pct, "benchmark_share": d.fmt_pct, "expected_n": "{:.1f}",
                          "residual": "{:+.2f}"})
    d.show_figure(pv.plot_lost_reasons(reasons))
'''),
    md("""
## Market indicators

Reputation (share who would praise the company), unaided awareness, return rate, complaint
rate and sales power, where the study supplies them.
"""),
    code('''
market = ctx.gate_rows(loyalty.market_indicators(data, praise=study.market.praise, awareness=study.market.awareness,
                                                referral=study.market.referral, repurchase=study.loyalty.repeat,
                                                complaint_rate=complaint_rate, sales_growth=study.market.sales_growth,
                                                **common), key="source", keep=["indicator", "label", "definition"])
if len(market):
    d.show_table(market[["indicator", "value", "ci_low", "ci_high", "n", "definition"]],
                 caption="Market indicators", formats=v.SHARE_FORMATS)
else:
    d.show_callout("The study supplies no market indicators (key 'market').")
'''),
    md("""
## What customers wrote

Open comments coded with the discovery codebook: how often each theme comes up, and a few
comments as written (without respondent ids; e-mail addresses and phone or account numbers
removed). Themes mentioned by fewer customers than the minimum cell size get no quotes.
"""),
    code('''
comments = study.responses.comments
if comments and ctx.codebook is not None:
    theme_table = themes.comment_themes(data, text=comments, id=study.responses.id, codebook=ctx.codebook,
                                        weights=w, min_n=min_n)
    d.show_table(theme_table[["label", "dimension", "mentions", "share_of_commenters", "share_of_respondents",
                              "suppressed"]], caption="Themes in the comments", formats=v.THEME_FORMATS)
    d.show_figure(pv.plot_themes(theme_table))
    examples = themes.theme_examples(data, text=comments, id=study.responses.id, codebook=ctx.codebook,
                                     per_theme=2, min_n=min_n, seed=study.seed, satisfaction=study.overall,
                                     scale=study.scale_for(study.overall, "overall"))
    d.show_table(examples[["label", "sentiment", "quote"]], caption="Example comments (no ids; contact details removed)")
else:
    d.show_callout("No comment column (responses.comments) or no codebook: comments are not analysed.")
'''),
    md("""
## Competitor benchmark

Customers' ratings of the company and of their main competitor on the same attributes; the
difference and whether it is larger than chance once every attribute's test is taken into account
(better / worse on the Benjamini–Hochberg adjusted p-value, shown beside the raw one).
"""),
    code('''
bench = ctx.competitor_table
if bench is not None:
    shown = v.with_labels(bench, ctx.attribute_labels)
    d.show_table(shown[["attribute", "n", "own", "competitor", "gap", "ci_low", "ci_high", "p_value", "p_adj", "flag",
                        "suppressed"]], caption="Own vs main competitor", formats=v.COMPETITOR_FORMATS,
                 rename=v.p_headers(bench))
    d.show_figure(pa.plot_competitor(bench, labels=ctx.attribute_labels, competitor_label=opts.competitor_label))
else:
    d.show_callout("The study has no competitor ratings.")
'''),
    code('''
ctx.record_metrics({
    "kpis": kpis_entry(summary),
    "kpi_change": change,
    "drivers": drivers_entry(driver_table),
    "drivers_r2": driver_table.attrs["r2"],
    "ipa": ipa_entry(ipa_table),
    "gaps": gaps_entry(gap_table) if gap_table is not None else [],
    "scorecard": card,
    "weighted": bool(w),
    "wave": ctx.latest_wave,
    "previous_wave": ctx.previous_wave,
    "suppressed": suppressed,
})
''', "hide-output"),
    md("""
## Methods appendix

How each figure above was produced, the parameters and software used, and the fingerprint
(SHA-256) of every input file.
"""),
    code('''
d.show_table(methods_table(["kpis", "kpi_change", "scorecard", "gaps", "drivers", "ipa", "segments", "suppression",
                            "loyalty", "complaints", "lost", "market", "themes", "competitor"]), caption="Methods")
d.show_table(parameters_table(study, segment=ctx.segment, confidence_level=opts.level, bootstrap=opts.bootstrap,
                              top_box=opts.top_box, importance=mode, crosshair=opts.ipa_crosshair,
                              weighted=bool(w)), caption="Parameters")
d.show_table(software_versions(), caption="Software")
d.show_table(input_files(study), caption="Input files")
'''),
]


STAGE_05 = [
    md("""
# Action planning and progress

From findings to action (PDCA "plan"): the attributes to work on first, ranked by how much they
matter times how far they fall short; strengths, weaknesses, opportunities and threats read from
the data; every KPI over all waves against its target; and service quality in sigma terms. The
priority list is also written as a CSV action register for the team to fill in.
"""),
    code(PARAMS, "parameters"),
    code('''
from csm_helpers import action, complaints as cx, display as d, plots
from csm_helpers import plots_action as pl, views as v
from csm_helpers.appendix import input_files, methods_table, parameters_table, software_versions
from csm_helpers.i18n import tr
from csm_helpers.workbook import open_stage

plots.set_report_style()
ctx = open_stage("05_action_progress", study_path=study_path, segment=segment, output_dir=output_dir)
study, opts = ctx.study, ctx.study.analysis
data, w, min_n = ctx.current, ctx.weights, study.min_cell_size
common, boot, satisfaction = ctx.common, ctx.boot, ctx.satisfaction
'''),
    md("""
## Priorities

Each attribute's importance (stated importance rescaled to 0–1, or its share of explained
satisfaction when no importance was asked) times its room for improvement (the gap between its
mean performance and the top of the scale). The same reference for every attribute keeps the
scores comparable; the gap to the main competitor and to customers' expectation are shown beside
each. The first rows are where improvement pays most.
"""),
    code('''
priority = ctx.priorities
d.show_table(priority[["rank", "label", "dimension", "quadrant", "importance", "performance", "gap", "score",
                       "expectation_gap", "competitor_gap"]], caption="Priority list", formats=v.PRIORITY_FORMATS)
d.show_figure(pl.plot_priorities(priority))
csv_path = ctx.output_path("05_action_register.csv")
if csv_path is not None:
    action.write_action_csv(action.action_register(priority), csv_path)
    d.show_callout(tr("Action register written to {file} beside this report: owner, due date and action "
                      "columns are left empty for the team.", file=csv_path.name))
'''),
    md("""
## SWOT from the data

Strengths and weaknesses come from the importance–performance grid; opportunities and threats from
the comparison with the main competitor and from the change since the previous wave. A competitor
gap or a change counts when it is significant after adjusting for testing every attribute
(Benjamini–Hochberg); the table of changes shows the raw and the adjusted p-value side by side.
Each entry shows the numbers behind it.
"""),
    code('''
change = ctx.attribute_change_table()
if change is not None:
    d.show_table(v.with_labels(change, ctx.attribute_labels)[
        ["attribute", "n_previous", "n_latest", "previous", "latest", "change", "p_value", "p_adj", "significant",
         "suppressed"]], caption="Attribute means: change since the previous wave (Welch t)",
        formats=v.ATTRIBUTE_CHANGE_FORMATS, rename=v.p_headers(change))
swot = action.swot(ctx.ipa_table, competitor=ctx.competitor_table, change=change, drivers=ctx.driver_table)
d.show_table(action.swot_display(swot), caption="SWOT")
d.show_figure(pl.plot_swot(action.swot_display(swot)))
'''),
    md("""
## Progress over the waves

Every KPI in every wave with its 95 % interval, whether the change from the previous wave is larger
than chance, and whether the target was met.
"""),
    code('''
if not ctx.waves or len(ctx.waves) < 2:
    d.show_callout("The data hold a single wave: progress will show from the next wave on. The current values "
                   "are in the analysis report.")
track = ctx.progress_table
d.show_table(v.progress_display(track), caption="KPIs by wave")
d.show_figure(pl.plot_progress(track)[0])
'''),
    md("""
## Service quality in sigma terms

Defects per million opportunities (DPMO) and the sigma level, `Φ⁻¹(1 − DPMO/10⁶) + 1.5`: six sigma
is 3.4 defects per million.
"""),
    code('''
if study.complaints is not None and study.market.customers:
    log, _ = ctx.segment_table("complaints")
    cs = cx.complaint_summary(log, spec=study.complaints, customers=study.market.customers,
                              sla_days=opts.sla_days, min_n=min_n)
    d.show_table(action.service_sigma(cs), caption="Sigma levels", formats=v.SIGMA_FORMATS)
else:
    d.show_callout("Sigma levels need the complaint log and the customer base (market.customers).")
'''),
    code('''
ctx.record_metrics({"action": {"priorities": priority.head(10), "swot": swot}, "progress": track})
''', "hide-output"),
    md("""
## Methods appendix
"""),
    code('''
d.show_table(methods_table(["priority", "swot", "progress", "sigma", "suppression"]), caption="Methods")
d.show_table(parameters_table(study, segment=ctx.segment, confidence_level=opts.level), caption="Parameters")
d.show_table(software_versions(), caption="Software")
d.show_table(input_files(study), caption="Input files")
'''),
]


NOTEBOOKS = {"01_goal_setting": STAGE_01, "02_discovery": STAGE_02, "03_measurement": STAGE_03, "04_analysis": STAGE_04, "05_action_progress": STAGE_05}


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
