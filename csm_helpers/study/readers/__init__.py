"""Loading survey exports and the other tables of a study.

Every reader returns a :class:`Table`: the rows as a DataFrame plus what a message needs to
point a user at the right place in the file (``source``, ``format``, user row numbers) and
what the export tool knew about the columns (question wording, SPSS value labels).

Formats (SPEC §1.3): CSV (any of ``, ; TAB |``; UTF-8, UTF-8 with BOM, UTF-16, or a named
encoding), Qualtrics CSV exports (current layout with three header rows, legacy layout with
two), Excel ``.xlsx``, SPSS ``.sav``/``.zsav`` with value labels, and Parquet.

Text files are read as text first and converted column by column afterwards, so that a
value such as ``"five"`` in a numeric column is reported by :mod:`csm_helpers.study.validate`
instead of silently becoming missing. Text cells and column names are stripped of
surrounding spaces and put in Unicode NFC form, so that "Huế" stored with combining marks
(as Windows-1258 files and some Vietnamese keyboards store it) equals "Huế" typed
precomposed. Any failure to read a file is a
:class:`~csm_helpers.core.errors.DataFileError` that names the file and the fix.

Row numbers in messages are the rows a user sees: in a CSV or Excel file the header is
row 1 and the first data row is row 2 (row 4 in a current Qualtrics export, row 3 in a
legacy one); blank rows count, as they do in a spreadsheet. SPSS and Parquet files have no
header row: their row numbers are case numbers, 1 for the first case (as in SPSS's Data
View).
"""

from csm_helpers.study.readers.files import FORMATS, read_table
from csm_helpers.study.readers.responses import ROW_ID, load_responses, qualtrics_left_out, read_study_table
from csm_helpers.study.table import MISSING_TOKENS, Table

__all__ = [
    "FORMATS",
    "ROW_ID",
    "qualtrics_left_out",
    "MISSING_TOKENS",
    "Table",
    "load_responses",
    "read_study_table",
    "read_table",
]
