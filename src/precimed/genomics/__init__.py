"""Genomics: VCF ingest, the packed genotype store, counting and HWE kernels, genotype QC.

``GenotypeStore.open(path)`` reads a store; :mod:`.vcf` writes one; :mod:`.kernels`
holds the counting and Hardy-Weinberg kernels; :mod:`.qc` the genotype checks.
"""

from precimed.genomics.kernels import hwe_exact
from precimed.genomics.store import GenotypeStore

__all__ = ["GenotypeStore", "hwe_exact"]
