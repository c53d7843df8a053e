"""Paper equity snapshots: the equity curve of each portfolio.

Revision ID: 0005_paper_equity
Revises: 0004_quote_source_time
Create Date: 2026-12-01 21:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = "0005_paper_equity"
down_revision = "0004_quote_source_time"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "paper_equity",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("equity", sa.Float(), nullable=False),
        sa.Column("cash", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_paper_equity_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_equity")),
    )
    with op.batch_alter_table("paper_equity", schema=None) as batch_op:
        batch_op.create_index("ix_paper_equity_user_ts", ["user_id", "ts"], unique=False)


def downgrade():
    with op.batch_alter_table("paper_equity", schema=None) as batch_op:
        batch_op.drop_index("ix_paper_equity_user_ts")
    op.drop_table("paper_equity")
