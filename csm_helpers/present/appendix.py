"""The methods appendix every report ends with (SPEC §1.6).

Each statistic shown, its formula or method with the source, the parameters used, the
software versions, and the SHA-256 of every input file.
"""

from __future__ import annotations

import functools
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

from csm_helpers.core.i18n import N_, tr
from csm_helpers.core.safety import file_sha256
from csm_helpers.study.config import Study

__all__ = ["METHODS", "methods_table", "software_versions", "input_files", "parameters_table"]

#: Method id -> (what is shown, formula or method, source). Notebooks pick the ones they use.
METHODS: dict[str, tuple[str, str, str]] = {
    "self_assessment": (
        N_("Performance-excellence self-assessment"),
        N_("score points = item points × assessed percentage (0–100 % in 10 % steps); gap = points − score"),
        "GB/T 19580-2012 Criteria for performance excellence, 4.3 Customers and market "
        "(4.3.1: 40, 4.3.2: 50 points); Malcolm Baldrige National Quality Award criteria (1990s weights)",
    ),
    "readiness": (
        N_("Goal-setting readiness checklist"),
        N_("status of the eleven goal-setting steps; ready when every step is done or not applicable"),
        "csm-workbook SPEC §1.1 (the eleven goal-setting steps of the CSM methodology)",
    ),
    "kpi_targets": (
        N_("KPI targets"),
        N_("targets as agreed by the leadership team; later stages test results against them"),
        "study goals file",
    ),
    "coding": (
        N_("Coding of verbatims"),
        N_("Unicode NFC + case folding; word-boundary match for spaced scripts (English, Vietnamese), "
        "substring match for scripts without word spaces (Chinese); regular-expression patterns; "
        "manual codes added"),
        "study codebook",
    ),
    "affinity": (
        N_("Affinity diagram"),
        N_("attributes grouped by dimension (product / process / people) and theme; mentions = interviews "
        "that mention the attribute at least once"),
        "Kawakita's KJ method, as used in customer-requirement discovery",
    ),
    "perception_gap": (
        N_("Perception gap"),
        N_("gap = share of customer-side interviews mentioning the attribute − share of company-side "
        "interviews; Fisher's exact test on the 2×2 table; flagged when |gap| ≥ threshold"),
        "Fisher, R. A. (1922). J. R. Stat. Soc. 85(1), 87–94; SciPy stats.fisher_exact",
    ),
    "saturation": (
        N_("Saturation"),
        N_("cumulative distinct attributes by interview order; saturated when the last k interviews "
        "added no new attribute"),
        "Guest, G., Bunce, A., & Johnson, L. (2006). How many interviews are enough? Field Methods 18(1), 59–82",
    ),
    "questionnaire": (
        N_("Draft questionnaire"),
        N_("for each customer-defined attribute: a performance, an importance and an expectation item"),
        "csm-workbook SPEC §1.2",
    ),
    "sample_size": (
        N_("Sample size and margin of error"),
        N_("n0 = z² p(1−p) / e²; n = n0 / (1 + (n0 − 1)/N), rounded up; achieved e = z √(p(1−p)/n) "
        "√((N−n)/(N−1)) for each wave, on the responses kept after the data-quality checks, with n the Kish "
        "effective n = (Σw)² / Σw² when weighted; response rate = responses received / invited"),
        "Cochran, W. G. (1977). Sampling Techniques, 3rd ed. Wiley, §4.4; Kish, L. (1965). Survey Sampling, §11.7",
    ),
    "representativeness": (
        N_("Representativeness"),
        N_("chi-square goodness of fit of the sample's segment mix against the population mix; Cohen's w"),
        "Pearson, K. (1900); SciPy stats.chisquare",
    ),
    "raking": (
        N_("Raking weights"),
        N_("iterative proportional fitting to every population margin, each wave on its own (a category with "
        "no respondent in a wave is left out of that wave's margins); Kish effective n = (Σw)² / Σw²; "
        "design effect = n / n_eff"),
        "Deming, W. E., & Stephan, F. F. (1940). Ann. Math. Stat. 11(4), 427–444; Kish, L. (1965). "
        "Survey Sampling, §11.7",
    ),
    "quality": (
        N_("Data-quality checks"),
        N_("out-of-range and missing answers; straight-lining = zero variance across a grid of ≥ 5 items, inside "
        "the scale (uniform answers at the top or bottom of the scale are flagged apart and kept by default: "
        "they are the most and least satisfied customers); speeders = duration below a third of the median; "
        "duplicate ids, and answer vectors shared under another id when the pattern is neither uniform nor "
        "likely by chance (C(n, 2) P² < 0.05 under the item marginals); the checks in measurement.exclude "
        "set responses aside, and the KPIs with and without them are stated"),
        "csm-workbook SPEC §1.3",
    ),
    "reliability": (
        N_("Reliability"),
        N_("Cronbach's alpha with Feldt's 95 % CI (as pingouin.cronbach_alpha), alpha if item deleted, "
        "corrected item-total correlation; alpha < 0.7 flagged; McDonald's omega total, (sum of loadings)^2 / "
        "((sum of loadings)^2 + sum of uniquenesses), from a one-factor model fitted by maximum likelihood "
        "to the item covariances, with a percentile bootstrap CI (the study's seed); neither reported on "
        "fewer than 20 complete answers"),
        "Cronbach, L. J. (1951). Psychometrika 16, 297–334; Feldt, L. S. (1965). Psychometrika 30, 357–370; "
        "McDonald, R. P. (1999). Test theory: a unified treatment, eq. 6.20b; Lawley, D. N. & Maxwell, A. E. "
        "(1971). Factor analysis as a statistical method",
    ),
    "likert": (
        N_("Distributions"),
        N_("share of each answer per item (weighted where weights exist), drawn as diverging stacked bars"),
        "Robbins, N. B., & Heiberger, R. M. (2011). Plotting Likert and other rating scales. JSM Proceedings",
    ),
    "kpis": (
        N_("Headline KPIs"),
        N_("CSAT = top-2-box share, Wilson score interval; CSI = mean of each respondent's average "
        "satisfaction rescaled 100(x−min)/(max−min), t-interval (percentile bootstrap when weighted; above "
        "10,000 respondents the resamples are drawn as multinomial counts of the distinct (score, weight) "
        "pairs — the same distribution as resampling respondents — or, with more than 2,000 distinct pairs, "
        "as resamples of 10,000 random batches of respondents); "
        "NPS = 100(p_P − p_D), adjusted-Wald interval (add 3/4 to promoters and detractors, 3 to n); "
        "weighted estimates use Kish's effective n"),
        "Wilson, E. B. (1927). JASA 22, 209–212; Rocks, B. (2016). The American Statistician 70(4), 365–372; "
        "Efron, B., & Tibshirani, R. J. (1993). An Introduction to the Bootstrap, ch. 13 and 20",
    ),
    "kpi_change": (
        N_("Change since the previous wave"),
        N_("two-proportion z-test (CSAT); z = (NPS1 − NPS2)/√(SE1² + SE2²) (NPS); Welch t-test (CSI)"),
        "Welch, B. L. (1947). Biometrika 34, 28–35",
    ),
    "scorecard": (
        N_("Invisible scorecard"),
        N_("CSI of the performance items of each dimension: product, process, people"),
        "csm-workbook SPEC §1.4",
    ),
    "gaps": (
        N_("Expectation–perception gaps"),
        N_("G = P − E per respondent; mean gap with paired t-test and Wilcoxon signed-rank test; Cohen's d_z; "
        "shares dissatisfied (P < E), satisfied (P = E), delighted (P > E); p_adj: Benjamini–Hochberg over the "
        "attributes (false discovery rate of the screen)"),
        "Parasuraman, A., Zeithaml, V. A., & Berry, L. L. (1988). J. Retailing 64(1), 12–40; Benjamini, Y., & "
        "Hochberg, Y. (1995). JRSS B 57(1), 289–300",
    ),
    "ipa": (
        N_("Importance–performance analysis"),
        N_("x = mean performance, y = stated mean importance or derived importance; cross-hairs at the grand "
        "means (or scale midpoints); quadrants Concentrate here / Keep up the good work / Low priority / "
        "Possible overkill; how sure each quadrant is: the share of bootstrap resamples of the respondents "
        "(the whole analysis redone, cross-hairs included; the study's seed) that put the attribute in "
        "the same quadrant, greyed out below 0.8; not computed on fewer than 30 respondents"),
        "Martilla, J. A., & James, J. C. (1977). Journal of Marketing 41(1), 77–79; Efron, B., & "
        "Tibshirani, R. J. (1993). An Introduction to the Bootstrap",
    ),
    "drivers": (
        N_("Key drivers"),
        N_("Pearson r, standardised betas (β = Rxx⁻¹ rxy) and relative weights summing to R² (also % of R²), "
        "pairwise-complete correlations, seeded percentile bootstrap 95 % CIs (above 10,000 respondents: "
        "resamples of 10,000 random batches of respondents, the batch-sum bootstrap), ranks; not estimated "
        "on fewer than max(30, 5 × attributes) respondents behind any correlation"),
        "Johnson, J. W. (2000). Multivariate Behavioral Research 35(1), 1–19",
    ),
    "segments": (
        N_("Segment comparison"),
        N_("Welch ANOVA with Games-Howell post-hoc (means), Kruskal-Wallis with Holm-corrected Mann-Whitney "
        "pairs (ordinal), chi-square on top-2-box with Holm-corrected pairwise z-tests (Holm controls the "
        "family-wise error rate: the pairs are few and each is read as a finding); effect sizes. With "
        "weights: weighted means, shares and intervals; Welch, Games-Howell, the chi-square and the z-tests on "
        "each segment's Kish effective n (the chi-square thus Rao–Scott-corrected by each segment's design "
        "effect); the rank tests unweighted"),
        "Welch (1951); Games & Howell (1976); Kruskal & Wallis (1952); Holm, S. (1979). Scand. J. Statist. 6, "
        "65–70; Rao, J. N. K., & Scott, A. J. (1981). JASA 76(374), 221–230; Potthoff, Woodbury & Manton "
        "(1992). JASA 87(418), 383–396",
    ),
    "suppression": (
        N_("Minimum cell size (privacy)"),
        N_("no statistic, chart point or comment for a group with fewer respondents than min_cell_size "
        "(primary suppression); when one group of a partition (a segment column, per wave and KPI) is "
        "hidden, the smallest other groups are hidden too until at least two groups holding at least "
        "min_cell_size respondents together are hidden (complementary suppression), so that the total "
        "minus the shown groups never reveals a small group by difference; hidden groups are left out "
        "of every test; segment reports follow the same rule; counts of respondents are shown. Every count "
        "is taken on the base the figure was computed from: the reported (latest) wave, after the "
        "data-quality exclusions, the respondents who answered the figure's items (an attribute answered by "
        "4 of a segment's 40 is hidden); a segment's report is published only when the segment passes both "
        "rules on that base, and respondents without a segment value count as a group that is never shown. "
        "Model-based statistics have their own minimum n: key drivers max(30, 5 × attributes) respondents "
        "behind every correlation, Cronbach's alpha 20 complete answers, the bootstrap quadrant probability "
        "30; a mean whose answers are all equal gets no interval"),
        "Hundepool, A. et al. (2012). Statistical Disclosure Control. Wiley, §4.2 (secondary suppression); "
        "Green, S. B. (1991). Multivariate Behavioral Research 26(3), 499–510; Charter, R. A. (2003). "
        "J. Gen. Psychol. 130(2), 117–129",
    ),
    "loyalty": (
        N_("Loyalty"),
        N_("Dick & Basu matrix: relative attitude (promoter) × repeat patronage — Loyalty, Latent loyalty, "
        "Spurious loyalty, No loyalty; Wilson intervals"),
        "Dick, A. S., & Basu, K. (1994). JAMS 22(2), 99–113",
    ),
    "complaints": (
        N_("Complaints"),
        N_("complaint rate, Pareto of categories, validity, time to resolve and share within SLA, repeat "
        "complaints, follow-up outcome; iceberg: dissatisfied customers = formal complaints / formal share "
        "(default 5 % formal, 35 % elsewhere, 60 % silent)"),
        "csm-workbook SPEC §1.4 defaults (set analysis.iceberg to the shares your market research supports)",
    ),
    "lost": (
        N_("Why customers leave"),
        N_("reason shares against the 1/3/5/9/14/68 % benchmark; chi-square goodness of fit (Monte-Carlo p when "
        "expected counts are small)"),
        "the classic benchmark as given in SPEC §1.4 (widely cited; its original source is uncertain — set analysis.lost_benchmark to your own)",
    ),
    "market": (
        N_("Market indicators"),
        N_("reputation (share who praise), unaided awareness, return rate (repurchase or referral), complaint "
        "rate, sales growth; Wilson intervals"),
        "csm-workbook SPEC §1.4",
    ),
    "themes": (
        N_("Open-text themes"),
        N_("comments coded with the discovery codebook; theme frequencies; example comments without ids, with "
        "e-mail addresses, phone and account numbers redacted, escaped"),
        "csm-workbook SPEC §1.4, §4",
    ),
    "competitor": (
        N_("Competitor benchmark"),
        N_("own minus competitor rating per attribute, paired t-test; better / worse when the "
        "Benjamini–Hochberg adjusted p over the attributes is below 1 − confidence level"),
        "csm-workbook SPEC §1.4; Benjamini, Y., & Hochberg, Y. (1995). JRSS B 57(1), 289–300",
    ),
    "satisfaction_model": (
        N_("Satisfaction-index model (PLS path modelling)"),
        N_("PLS path modelling with every block in Mode A and the study's inner weighting scheme (centroid by "
           "default), items standardised, as R plspm's plspm() with its defaults; path coefficients by least squares "
           "of each block's score on its predecessors' scores, with seeded percentile bootstrap intervals (the "
           "study's seed and bootstrap size); R², AVE, Dillon–Goldstein's rho, Cronbach's alpha, goodness of fit "
           "√(mean communality × mean R²); the index on 0–100 from the unstandardised outer weights (w / sd, summing "
           "to 1) as 100 × (Σ w x̄ − min) / (max − min); estimated unweighted; not estimated on fewer complete "
           "answers than ten times the largest block or number of arrows into a block (at least 30)"),
        "Wold (1982); Lohmöller (1989); Tenenhaus et al. (2005), CSDA 48(1); Fornell et al. (1996), J. Marketing "
        "60(4); Hair, Ringle & Sarstedt (2011), J. Marketing Theory and Practice 19(2); Sanchez (2013), R plspm",
    ),
    "kano": (
        N_("Kano classification"),
        N_("each respondent's functional and dysfunctional answers classified with the Kano evaluation table "
           "(A attractive, O one-dimensional, M must-be, I indifferent, R reverse, Q questionable); a feature's "
           "category is the most frequent, ties broken M > O > A > I; not clear when Fong's test finds the two "
           "most frequent categories not significantly different (|a − b| < 1.65 √((a + b)(2n − a − b) / 2n)); "
           "Better = (A + O) / (A + O + M + I), Worse = −(O + M) / (A + O + M + I), with Wilson intervals "
           "(Kish effective n when weighted)"),
        "Kano et al. (1984), J. Japanese Soc. for Quality Control 14(2); Berger et al. (1993), Center for Quality "
        "of Management J. 2(4); Fong (1996), Center for Quality of Management J. 5(3); Wilson (1927), JASA 22(158)",
    ),
    "follow_up": (
        N_("Closing the loop"),
        N_("follow-up list: respondents of the reported wave (data-quality exclusions aside) who agreed to be "
           "contacted and are dissatisfied (overall satisfaction in the bottom two points, or the bottom top-box "
           "points) or detractors (recommend 0–6), written owner-only to follow_up.csv and never into a report; "
           "last wave's outcomes: shares contacted, resolved and still a customer with Wilson intervals, retention "
           "of the contacted vs the others by Fisher's exact test (an association, not an effect of the call); "
           "last wave's actions: the attribute's change by Welch's t-test, Benjamini–Hochberg adjusted over the "
           "attributes with an action, and whether the latest mean reached the register's target"),
        "Wilson (1927), JASA 22(158); Fisher (1935), J. Royal Statistical Society 98(1); Welch (1947), Biometrika "
        "34; Benjamini & Hochberg (1995), JRSS B 57(1)",
    ),
    "priority": (
        N_("Priority list"),
        N_("score = importance (stated mean rescaled to 0–1, or the driver's share of R²) × gap to the reference "
        "(target, else a better competitor's mean, else the top of the scale); IPA quadrant and "
        "expectation gap alongside"),
        "csm-workbook SPEC §1.5 (PDCA plan)",
    ),
    "reconciled": (
        N_("Stated vs derived importance"),
        N_("stated rank: mean stated importance, 1 = most important; derived rank: Johnson's relative weight "
           "(share of R²); ties share the best rank; flagged when the two ranks differ by more than a third of "
           "the attributes ranked both ways; quadrant probability: share of bootstrap resamples (seeded) that "
           "put the attribute in its IPA quadrant, uncertain below 0.8; Kano category, where the study asks the Kano "
           "questions, as in the Kano classification"),
        "Gustafsson & Johnson (2004), J. Service Research 7(2); Johnson (2000), Multivariate Behav. Res. 35(1)",
    ),
    "swot": (
        N_("SWOT from data"),
        N_("strengths = high importance and performance; weaknesses = high importance, low performance; "
        "opportunities and threats from significant competitor gaps and wave-on-wave changes, each family of "
        "per-attribute tests corrected by Benjamini–Hochberg (raw and adjusted p quoted); KPI changes are "
        "three separate headline outcomes, tested without correction"),
        "csm-workbook SPEC §1.5; Benjamini, Y., & Hochberg, Y. (1995). JRSS B 57(1), 289–300",
    ),
    "progress": (
        N_("Progress"),
        N_("every KPI per wave with 95 % intervals; change between consecutive waves with the tests of the "
        "analysis stage; target met / not met / not measurable"),
        "csm-workbook SPEC §1.5",
    ),
    "sigma": (
        N_("Sigma level"),
        N_("DPMO = defects / (units × opportunities) × 10⁶; sigma = Φ⁻¹(1 − DPMO/10⁶) + 1.5"),
        "Harry, M., & Schroeder, R. (2000). Six Sigma. Currency; the 1.5σ shift convention",
    ),
}


def methods_table(ids: list[str]) -> pd.DataFrame:
    """Rows of :data:`METHODS` for the given ids, columns ``statistic, method, source``.

    Examples
    --------
    >>> methods_table(["saturation"]).columns.tolist()
    ['statistic', 'method', 'source']
    """
    unknown = [i for i in ids if i not in METHODS]
    if unknown:
        raise KeyError(f"no method entry for {unknown}; known: {sorted(METHODS)}")
    rows = [(tr(METHODS[i][0]), tr(METHODS[i][1]), METHODS[i][2]) for i in ids]  # sources stay as published
    return pd.DataFrame(rows, columns=["statistic", "method", "source"])


def software_versions() -> pd.DataFrame:
    """Versions of Python and the libraries behind the numbers (columns ``software, version``).

    Examples
    --------
    >>> "pandas" in software_versions()["software"].tolist()
    True
    """
    return pd.DataFrame(_versions(), columns=["software", "version"])


@functools.cache
def _versions() -> tuple[tuple[str, str], ...]:
    """The versions, looked up once per process: the code a process runs is the code it
    imported, whatever is installed later (and each lookup reads the installed packages'
    metadata, 13 ms a report)."""
    rows = [("Python", platform.python_version())]
    for pkg in ("csm-workbook", "pandas", "numpy", "scipy", "pingouin", "seaborn", "matplotlib",
                "papermill", "nbconvert"):
        try:
            rows.append((pkg, version(pkg)))
        except PackageNotFoundError:
            rows.append((pkg, "not installed"))
    return tuple(rows)


def input_files(study: Study, *, notebook: str | None = None) -> pd.DataFrame:
    """Every input file of the study with its size and SHA-256 (columns ``key, file, bytes, sha256``).

    Parameters
    ----------
    study : Study
        The loaded study.
    notebook : str, optional
        The running stage (``"04_analysis"``): adds a row for ``<notebook>.ipynb`` in the
        working folder, which is the notebook's own folder under papermill, ``csm run``,
        ``csm batch`` and JupyterLab. So a report names the notebook file that produced it.

    Examples
    --------
    >>> from csm_helpers.study.config import load_study
    >>> from csm_helpers.study.datasets import sample_study_path
    >>> t = input_files(load_study(sample_study_path()))
    >>> bool(t["sha256"].str.len().eq(64).all())
    True
    """
    rows = [("study", study.path.name, study.path.stat().st_size, file_sha256(study.path))]
    for key, rel in study.file_keys().items():
        path = study.resolve(rel, key=key)
        if path.is_file():
            rows.append((key, rel, path.stat().st_size, file_sha256(path)))
        else:
            rows.append((key, rel, 0, "missing"))
    if notebook:
        path = Path.cwd() / f"{notebook}.ipynb"
        rows.append(("notebook", path.name, path.stat().st_size, file_sha256(path)) if path.is_file()
                    else ("notebook", f"{notebook}.ipynb", 0, "not in the working folder"))
    return pd.DataFrame(rows, columns=["key", "file", "bytes", "sha256"])


def parameters_table(study: Study, *, segment: str, **extra: object) -> pd.DataFrame:
    """Parameters this report was produced with (columns ``parameter, value``): a yes/no
    setting reads "yes" or "no" (translated with the report), not Python's True/False.

    Examples
    --------
    >>> from csm_helpers.study.config import load_study
    >>> from csm_helpers.study.datasets import sample_study_path
    >>> t = parameters_table(load_study(sample_study_path()), segment="all", weighted=True, bootstrap=1000)
    >>> t.set_index("parameter").loc[["weighted", "bootstrap"], "value"].tolist()
    ['yes', '1000']
    """
    rows = [("study", study.name), ("segment", segment), ("seed", study.seed),
            ("minimum cell size", study.min_cell_size), ("language", study.language)]
    rows += [(k.replace("_", " "), v) for k, v in extra.items()]
    return pd.DataFrame([(k, ("yes" if v else "no") if isinstance(v, bool) else str(v)) for k, v in rows],
                        columns=["parameter", "value"])
