"""Privacy-critical code: pseudonymisation, generalisation and disclosure control.

Kept small and listed in the README. Every participant-level path into the lake goes
through :func:`precimed.deid.pseudonym.Pseudonymiser`; every count that leaves the
platform goes through :func:`precimed.deid.disclosure.publish_table` (or one of its
shapes: :func:`publish_count`, :func:`publish_sequence`, :func:`protect_counts`).
"""

from precimed.deid.disclosure import (
    EXACT,
    PERTURBED,
    SECONDARY,
    SMALL,
    TIERS,
    Cell,
    CountTable,
    Policy,
    consistent_counts,
    fields_of,
    protect_count,
    protect_counts,
    protect_sequence,
    publish_count,
    publish_sequence,
    publish_table,
)

__all__ = ["EXACT", "PERTURBED", "SECONDARY", "SMALL", "TIERS", "Cell", "CountTable",
           "Policy", "consistent_counts", "fields_of", "protect_count", "protect_counts",
           "protect_sequence", "publish_count", "publish_sequence", "publish_table"]
