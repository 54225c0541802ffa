"""The population reference database: allele frequencies by sub-population.

Built once from the genotype store (:func:`write_summary`), looked up without touching
genotypes (:class:`ReferenceDatabase`), published through disclosure control
(:func:`publish`). Search syntax and gene coordinates: :mod:`.genes`.
"""

from precimed.reference.frequencies import (
    Layout,
    ReferenceDatabase,
    build_summary,
    label_samples,
    layouts,
    publish,
    write_summary,
)
from precimed.reference.genes import gene_loci, parse_search

__all__ = ["Layout", "ReferenceDatabase", "build_summary", "gene_loci", "label_samples",
           "layouts", "parse_search", "publish", "write_summary"]
