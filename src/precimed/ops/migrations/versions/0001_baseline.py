"""Baseline: submissions, QC scorings, endpoint candidates and adjudication decisions
(the schema the ops database had before migrations, 'schema_version' 3).

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "submission",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("centre", sa.String(32), nullable=False, index=True),
        sa.Column("digest", sa.String(64), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("finished_at", TZ, nullable=True),
        sa.Column("catalog_version", sa.Integer, nullable=True),
        sa.Column("problem_count", sa.Integer, nullable=False),
        sa.Column("rows", sa.JSON, nullable=False),
        sa.Column("report", sa.JSON, nullable=False),
    )
    op.create_table(
        "qc_scoring",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("submission_id", sa.String(32), nullable=True, index=True),
        sa.Column("centre", sa.String(32), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("rules_version", sa.String(32), nullable=False),
        sa.Column("verdict", sa.String(24), nullable=False),
        sa.Column("scored_at", TZ, nullable=False, index=True),
        sa.Column("catalog_version", sa.Integer, nullable=True),
        sa.Column("pass_rates", sa.JSON, nullable=False),
        sa.Column("results", sa.JSON, nullable=False),
    )
    op.create_table(
        "endpoint_candidate",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("pseudonym", sa.String(64), nullable=False, index=True),
        sa.Column("centre", sa.String(32), nullable=False, index=True),
        sa.Column("endpoint", sa.String(32), nullable=False, index=True),
        sa.Column("first_date", sa.Date, nullable=False),
        sa.Column("sources", sa.JSON, nullable=False),
        sa.Column("status", sa.String(24), nullable=False, index=True),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "adjudication_decision",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("candidate_id", sa.String(64), sa.ForeignKey("endpoint_candidate.id"),
                  nullable=False, index=True),
        sa.Column("reviewer", sa.String(64), nullable=False),
        sa.Column("from_status", sa.String(24), nullable=False),
        sa.Column("to_status", sa.String(24), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("decided_at", TZ, nullable=False),
    )


def downgrade() -> None:
    for table in ("adjudication_decision", "endpoint_candidate", "qc_scoring", "submission"):
        op.drop_table(table)
