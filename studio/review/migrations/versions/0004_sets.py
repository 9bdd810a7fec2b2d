"""Item sets: images saved together (one product from several angles) share a set id.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("items", sa.Column("set_id", sa.String(32)))            # in place on both engines
    op.create_index("items_set", "items", ["set_id"])


def downgrade() -> None:
    op.drop_index("items_set", "items")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("set_id")
