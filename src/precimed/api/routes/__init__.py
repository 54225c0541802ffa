"""The REST API: one router per resource, all under /api/v1."""

from __future__ import annotations

from fastapi import FastAPI


def mount(app: FastAPI) -> None:
    from precimed.api.routes import (
        admin,
        auth,
        cohorts,
        dashboard,
        dictionary,
        endpoints,
        followup,
        genotypes,
        participants,
        projects,
        reference,
        sharing,
        submissions,
    )

    for module in (auth, dashboard, submissions, genotypes, cohorts, followup, endpoints,
                   dictionary, reference, sharing, projects, participants, admin):
        app.include_router(module.router, prefix="/api/v1")
