"""Decision request ids: what asked for a decision (a queued job, or an auto-decision on a bar),
unique, so a retried or doubled job never stores the same decision twice.

Revision ID: 0007_decision_request_id
Revises: 0006_decision_probabilities
Create Date: 2026-12-09 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = "0007_decision_request_id"
down_revision = "0006_decision_probabilities"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("trading_decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_id", sa.String(length=120), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_trading_decisions_request_id"), ["request_id"]
        )


def downgrade():
    with op.batch_alter_table("trading_decisions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_trading_decisions_request_id"), type_="unique")
        batch_op.drop_column("request_id")
