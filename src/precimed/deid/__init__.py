"""Privacy-critical code: pseudonymisation and generalisation.

Kept small and listed in the README. Every participant-level path into the lake goes
through :func:`precimed.deid.pseudonym.Pseudonymiser`.
"""
