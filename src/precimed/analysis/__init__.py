"""Analyses on release extracts, each validated against a reference implementation on
real data (tests/validation): survival (Kaplan–Meier, log-rank, Cox models with strata and
robust variance, concordance, the proportional-hazards test, cumulative incidence under
competing risks) against R's survival; biomarker validation (ROC, DeLong, accuracy,
calibration, multi-centre pooling) against pROC and metafor; genetic and exposure-wide
association against PLINK 2 and statsmodels; risk (China-PAR, polygenic scores, Cox
absolute risk with validation and NRI)."""

from precimed.analysis.association import (
    GWASResult,
    genomic_inflation,
    linear_gwas,
    logistic_gwas,
)
from precimed.analysis.biomarker import (
    ROC,
    Calibration,
    DeLongTest,
    DiagnosticAccuracy,
    MulticentreAUC,
    delong_test,
    diagnostic_accuracy,
    multicentre_auc,
)
from precimed.analysis.china_par import china_par, china_par_category
from precimed.analysis.competing import AalenJohansen
from precimed.analysis.concordance import Concordance, concordance, concordance_index
from precimed.analysis.exposure_wide import (
    AssociationScan,
    benjamini_hochberg,
    bonferroni,
    exposure_wide,
    phenome_wide,
)
from precimed.analysis.genotypes import BedFile, read_bed, write_bed
from precimed.analysis.pgs import PolygenicScore, read_scoring_file, score_percentiles
from precimed.analysis.risk import CoxRiskModel, NRIResult, RiskValidation, net_reclassification
from precimed.analysis.survival import (
    CoxPH,
    KaplanMeier,
    LogRankResult,
    ProportionalHazardsTest,
    cox_zph,
    life_table,
    logrank,
)

__all__ = ["ROC", "AalenJohansen", "AssociationScan", "BedFile", "Calibration", "Concordance",
           "CoxPH", "CoxRiskModel", "DeLongTest", "DiagnosticAccuracy", "GWASResult",
           "KaplanMeier", "LogRankResult", "MulticentreAUC", "NRIResult", "PolygenicScore",
           "ProportionalHazardsTest", "RiskValidation", "benjamini_hochberg", "bonferroni",
           "china_par", "china_par_category", "concordance", "concordance_index", "cox_zph",
           "delong_test", "diagnostic_accuracy", "exposure_wide", "genomic_inflation",
           "life_table", "linear_gwas", "logistic_gwas", "logrank", "multicentre_auc",
           "net_reclassification", "phenome_wide", "read_bed", "read_scoring_file",
           "score_percentiles", "write_bed"]
