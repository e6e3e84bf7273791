"""Files a supervisor downloads: the visit log and the payments, as CSV or
as an Excel workbook, in the reader's language and time zone.

One table definition per export (``visits.py``, ``payments.py``: its
columns, each with a typed value) feeds both writers (``writers.py``), so a
CSV and a workbook of the same filter hold the same rows and columns. Rows
are read from the database in chunks and written as they come: an export of
100,000 visits never holds more than one chunk in memory (bench/exports.py
measures it)."""
