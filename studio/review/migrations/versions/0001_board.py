"""The first board: items and the append-only decision log.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("added_by", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("prompt", sa.Text),
        sa.Column("seed", sa.BigInteger),
        sa.Column("model", sa.Text),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("recipe", sa.Text, nullable=False),
        sa.Column("image", sa.Text, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
    )
    op.create_table(
        "decisions",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.String(32), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("reviewer", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("at", sa.Float, nullable=False),
        sa.CheckConstraint("action IN ('approve', 'reject', 'reset', 'star', 'unstar', 'comment')",
                           name="decisions_action"),
        sqlite_autoincrement=True,
    )
    op.create_index("decisions_item", "decisions", ["item_id", "id"])


def downgrade() -> None:
    op.drop_index("decisions_item", "decisions")
    op.drop_table("decisions")
    op.drop_table("items")
