"""Privacy-critical code: pseudonymisation and generalisation.

Kept small and listed in the README. Every participant-level path into the lake goes
through :func:`precimed.deid.pseudonym.Pseudonymiser`.
"""

from precimed.deid.disclosure import Policy, protect_count, protect_counts, protect_sequence

__all__ = ["Policy", "protect_count", "protect_counts", "protect_sequence"]
