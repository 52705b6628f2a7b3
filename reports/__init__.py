"""Reports for supervisors and auditors: the offline HTML report and the Excel workbook.

* :func:`write_report` writes ``OUT_DIR/report.html`` (one self-contained file, zh/en);
* :func:`write_workbook` writes ``OUT_DIR/leads.xlsx`` with a disposition column;
* :func:`read_dispositions` reads the reviewers' dispositions back from that workbook.

Personal data is masked in both unless ``unmask=True``.
"""

from .excel import read_dispositions, write_workbook
from .html import render_report, write_report

__all__ = ["write_report", "render_report", "write_workbook", "read_dispositions"]
