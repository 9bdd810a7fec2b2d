"""A board for a team: idempotency keys on decisions, and reviewer accounts shared by every replica.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN and CREATE UNIQUE INDEX: both engines do them in place (no SQLite table copy).
    op.add_column("decisions", sa.Column("request_key", sa.String(64)))
    op.create_index("decisions_request_key", "decisions", ["request_key"], unique=True)
    op.create_table(
        "users",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("password", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("users")
    op.drop_index("decisions_request_key", "decisions")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("request_key")
