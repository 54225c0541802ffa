"""Governed sharing: catalogue entries and their versioned DUO conditions, access requests
(datasets, members, status events), committee votes and the provision record.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"

TZ = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)


def _request_ref() -> sa.Column:
    return sa.Column("request_id", sa.String(32), sa.ForeignKey("access_request.id"),
                     nullable=False, index=True)


def upgrade() -> None:
    op.create_table(
        "catalogue_entry",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("release", sa.String(64), nullable=True),
        sa.Column("cohort", sa.String(32), nullable=True),
        sa.Column("genotype_dataset", sa.String(64), nullable=True),
        sa.Column("title_zh", sa.String(300), nullable=False),
        sa.Column("title_en", sa.String(300), nullable=False),
        sa.Column("description_zh", sa.Text, nullable=False),
        sa.Column("description_en", sa.Text, nullable=False),
        sa.Column("centres", sa.JSON, nullable=False),
        sa.Column("access_tier", sa.String(16), nullable=False),
        sa.Column("embargo_until", sa.Date, nullable=True),
        sa.Column("variables", sa.JSON, nullable=False),
        sa.Column("participants", sa.Integer, nullable=False),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("conditions_version", sa.Integer, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "catalogue_conditions",
        _id(),
        sa.Column("entry_id", sa.String(64), sa.ForeignKey("catalogue_entry.id"),
                  nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("conditions", sa.JSON, nullable=False),
        sa.Column("set_by", sa.String(64), nullable=False),
        sa.Column("set_at", TZ, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_table(
        "access_request",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("applicant_id", sa.Integer, sa.ForeignKey("user_account.id"),
                  nullable=False, index=True),
        sa.Column("applicant", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("title_zh", sa.String(300), nullable=False),
        sa.Column("title_en", sa.String(300), nullable=False),
        sa.Column("summary_zh", sa.Text, nullable=False),
        sa.Column("summary_en", sa.Text, nullable=False),
        sa.Column("institution", sa.String(200), nullable=False),
        sa.Column("intended_use", sa.JSON, nullable=False),
        sa.Column("cohort_id", sa.String(32), nullable=True),
        sa.Column("cohort_definition", sa.JSON, nullable=True),
        sa.Column("variables", sa.JSON, nullable=False),
        sa.Column("ethics_number", sa.String(64), nullable=False),
        sa.Column("ethics_document", sa.String(256), nullable=True),
        sa.Column("ethics_sha256", sa.String(64), nullable=True),
        sa.Column("foreign_party", sa.Boolean, nullable=False),
        sa.Column("foreign_sponsor", sa.Boolean, nullable=False),
        sa.Column("foreign_detail", sa.Text, nullable=False),
        sa.Column("duration_months", sa.Integer, nullable=False),
        sa.Column("hgr_filing_number", sa.String(64), nullable=True),
        sa.Column("hgr_filing_date", sa.Date, nullable=True),
        sa.Column("hgr_backup_receipt", sa.String(128), nullable=True),
        sa.Column("security_review_ref", sa.String(128), nullable=True),
        sa.Column("security_review_date", sa.Date, nullable=True),
        sa.Column("match", sa.JSON, nullable=False),
        sa.Column("review_round", sa.Integer, nullable=False),
        sa.Column("approved_conditions", sa.JSON, nullable=False),
        sa.Column("date_handling", sa.String(16), nullable=True),
        sa.Column("coarsen_allowed", sa.Boolean, nullable=False),
        sa.Column("decided_on", sa.Date, nullable=True),
        sa.Column("decision_reason", sa.Text, nullable=False),
        sa.Column("active_from", sa.Date, nullable=True),
        sa.Column("expires_on", sa.Date, nullable=True),
        sa.Column("ended_on", sa.Date, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "access_request_dataset",
        sa.Column("request_id", sa.String(32), sa.ForeignKey("access_request.id"),
                  primary_key=True),
        sa.Column("entry_id", sa.String(64), sa.ForeignKey("catalogue_entry.id"),
                  primary_key=True, index=True),
        sa.Column("conditions_version", sa.Integer, nullable=False),
    )
    op.create_table(
        "access_request_member",
        _id(),
        _request_ref(),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("user_account.id"), nullable=True,
                  index=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("institution", sa.String(200), nullable=False),
        sa.Column("foreign", sa.Boolean, nullable=False),
    )
    op.create_table(
        "access_event",
        _id(),
        _request_ref(),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=False),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_table(
        "dac_vote",
        _id(),
        _request_ref(),
        sa.Column("review_round", sa.Integer, nullable=False),
        sa.Column("voter", sa.String(64), nullable=False),
        sa.Column("vote", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_table(
        "provision",
        _id(),
        _request_ref(),
        sa.Column("entry_id", sa.String(64), nullable=False),
        sa.Column("recipient", sa.String(64), nullable=False),
        sa.Column("what", sa.String(200), nullable=False),
        sa.Column("people", sa.Integer, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("provided_on", sa.Date, nullable=False, index=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("genetic", sa.Boolean, nullable=False),
        sa.Column("foreign", sa.Boolean, nullable=False),
        sa.Column("filing_number", sa.String(64), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("detail", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    for table in ("provision", "dac_vote", "access_event", "access_request_member",
                  "access_request_dataset", "access_request", "catalogue_conditions",
                  "catalogue_entry"):
        op.drop_table(table)
