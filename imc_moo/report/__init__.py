"""``imc-moo-report``: reading a sweep's runs (:mod:`.readers`), the study report (:mod:`.study`), the optimizers
judged against the exact optimum and front (:mod:`.comparison`) and the deployment section (:mod:`.deployment`)."""

from imc_moo.report.formatting import label_palette
from imc_moo.report.readers import ReportError, collect, find_runs
from imc_moo.report.study import comparison, main, normalized_edap, reductions, report

__all__ = ["ReportError", "collect", "comparison", "find_runs", "label_palette", "main", "normalized_edap",
           "reductions", "report"]
