"""``imc-moo-report``: reading a sweep's runs (:mod:`.readers`), the study report (:mod:`.study`), the optimizers
judged against the exact optimum and front (:mod:`.comparison`) and the deployment section (:mod:`.deployment`);
``imc-moo-design``: one design's report (:mod:`.design`)."""

from imc_moo.report.design import DesignReport, DesignReportError, design_report
from imc_moo.report.formatting import label_palette
from imc_moo.report.readers import ReportError, collect, find_runs
from imc_moo.report.selection import NothingSelected, SelectError, select
from imc_moo.report.study import comparison, main, normalized_edap, reductions, report

__all__ = ["DesignReport", "DesignReportError", "NothingSelected", "ReportError", "SelectError", "collect",
           "comparison", "design_report", "find_runs", "label_palette", "main", "normalized_edap", "reductions",
           "report", "select"]
