"""The cohort query model (frozen, typed, JSON-serialisable) and its engines.

Write a definition in Python::

    from precimed.query import *
    women_40_69_hypertensive = cohort(
        "hypertensive women 40-69",
        ParticipantIs("sex", ("2",)), AgeAtEnrolment(40, 70),
        MeasurementIn("SBP", min=140, window=baseline()),
        Not(Diagnosis(("I21", "I22"), window=before())),
    )

save it with ``to_json()``, and run it with :mod:`precimed.query.compile` on a release
(``precimed cohort count DEF.json --release NAME``).
"""

from precimed.query.model import (
    AgeAtEnrolment,
    AssayAvailable,
    CohortDefinition,
    Diagnosis,
    ExposureIs,
    MeasurementIn,
    Not,
    ParticipantIs,
    SpecimenAvailable,
    Window,
    after,
    baseline,
    before,
    cohort,
    ever,
    within,
)

__all__ = ["AgeAtEnrolment", "AssayAvailable", "CohortDefinition", "Diagnosis", "ExposureIs",
           "MeasurementIn", "Not", "ParticipantIs", "SpecimenAvailable", "Window", "after",
           "baseline", "before", "cohort", "ever", "within"]
