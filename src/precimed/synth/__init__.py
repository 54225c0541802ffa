"""Synthetic multi-centre cohorts with known ground truth, written as centre packages."""

from precimed.synth.generate import SynthResult, synthesise

__all__ = ["SynthResult", "synthesise"]
