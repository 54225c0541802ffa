"""Biomarker validation: discrimination (ROC, AUC with DeLong confidence intervals, DeLong
tests), accuracy at cut-offs (Wilson intervals), calibration of predicted risks, and AUC
across centres (DerSimonian–Laird random effects).

Validated against R's pROC 1.18 and metafor 3.8 on pROC's aSAH data, and against
statsmodels (Wilson intervals, logistic GLMs, ``combine_effects``); see
tests/validation/test_biomarker_against_proc.py. Results carry the numbers of cases and
controls so that the platform can apply disclosure control; nothing here suppresses.
"""

from precimed.analysis.biomarker.accuracy import DiagnosticAccuracy, diagnostic_accuracy
from precimed.analysis.biomarker.calibration import Calibration
from precimed.analysis.biomarker.multicentre import MulticentreAUC, multicentre_auc
from precimed.analysis.biomarker.roc import ROC, DeLongTest, delong_test

__all__ = ["ROC", "Calibration", "DeLongTest", "DiagnosticAccuracy", "MulticentreAUC",
           "delong_test", "diagnostic_accuracy", "multicentre_auc"]
