"""The report charts of each stage, drawn as SVG by our own writer, and its toolkit.

Every chart function takes its table first and everything else by keyword, and returns a
:class:`~csm_helpers.present.charts.canvas.Chart`: an SVG drawing laid out from the measured
width of every text (:mod:`~csm_helpers.present.charts.fonts`), text kept as text, customer
wording escaped, and a record of what it draws (``chart.marks``). ``display.show_figure``
shows it. Charts are made for print and phones: text never under 11 pt, legends under the
chart, no two labels overlapping; greys, hatching, marker shapes and value labels carry the
meaning, never colour alone (:mod:`~csm_helpers.present.charts.palette`), and the title says
what the reader should see.

:mod:`~csm_helpers.present.charts.style` and :mod:`~csm_helpers.present.charts.raster` remain
for a chart a researcher draws with matplotlib in their own notebook: the report look
(``style.set_report_style()``) and its embedding as a PNG.
"""
