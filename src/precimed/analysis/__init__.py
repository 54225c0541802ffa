"""Analyses on release extracts: survival first (Kaplan–Meier, log-rank), validated
against R; Cox models, biomarkers, association and risk follow (issue 7)."""

from precimed.analysis.survival import CoxPH, KaplanMeier, LogRankResult, logrank

__all__ = ["CoxPH", "KaplanMeier", "LogRankResult", "logrank"]
