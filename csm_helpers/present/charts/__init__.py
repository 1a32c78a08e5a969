"""The chart toolkit (:mod:`~csm_helpers.present.charts.style`) and the charts of each stage.

Every chart function takes its table first and everything else by keyword, draws on ``ax`` (a
new figure when ``ax`` is None), passes ``**kwargs`` to the main matplotlib call and returns the
Axes (or the Figure), as seaborn does; none calls ``plt.show()``. Charts are made for print:
greys, hatching and value labels carry the meaning, never colour alone, and the title says what
the reader should see. Customer wording is escaped (:func:`~csm_helpers.present.charts.style.mathtext_escape`)
and drawn with TeX off (:func:`~csm_helpers.present.charts.style.drawing`).
"""
