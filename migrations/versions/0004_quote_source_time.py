"""Quotes keep the source's own time beside the wall-clock one (in replay, the historical moment).

Revision ID: 0004_quote_source_time
Revises: 0003_paper_trading
Create Date: 2026-12-01 19:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = "0004_quote_source_time"
down_revision = "0003_paper_trading"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("market_data", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_time", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("market_data", schema=None) as batch_op:
        batch_op.drop_column("source_time")
