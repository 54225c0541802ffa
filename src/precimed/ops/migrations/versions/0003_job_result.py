"""Jobs keep a result: a genotype upload's verdict, counts, scoring id and whether it was
published (a package job points at its submission instead).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.add_column("job", sa.Column("result", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job") as batch:
        batch.drop_column("result")
