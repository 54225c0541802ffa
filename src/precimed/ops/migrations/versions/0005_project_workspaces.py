"""Project workspaces: the extracts cut for a project and the outputs it submits for
release, with their checks and reviews.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"

TZ = sa.DateTime(timezone=True)


def _request_ref() -> sa.Column:
    return sa.Column("request_id", sa.String(32), sa.ForeignKey("access_request.id"),
                     nullable=False, index=True)


def upgrade() -> None:
    op.create_table(
        "project_extract",
        sa.Column("id", sa.String(32), primary_key=True),
        _request_ref(),
        sa.Column("entry_id", sa.String(64), nullable=False),
        sa.Column("release", sa.String(64), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("people", sa.Integer, nullable=False),
        sa.Column("columns", sa.JSON, nullable=False),
        sa.Column("files", sa.JSON, nullable=False),
        sa.Column("date_handling", sa.String(16), nullable=False),
        sa.Column("coarsened", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "project_output",
        sa.Column("id", sa.String(32), primary_key=True),
        _request_ref(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("check", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("submitted_by", sa.String(64), nullable=False),
        sa.Column("submitted_at", TZ, nullable=False),
        sa.Column("reviewed_by", sa.String(64), nullable=True),
        sa.Column("reviewed_at", TZ, nullable=True),
        sa.Column("review_reason", sa.Text, nullable=False),
        sa.Column("released_sha256", sa.String(64), nullable=True),
    )


def downgrade() -> None:
    for table in ("project_output", "project_extract"):
        op.drop_table(table)
