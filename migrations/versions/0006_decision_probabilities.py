"""Decision probabilities: calibrated P(up), P(down), P(flat), the base rate of the action's
outcome in the training labels, and the first bar the decision read (for the audit).

Revision ID: 0006_decision_probabilities
Revises: 0005_paper_equity
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = "0006_decision_probabilities"
down_revision = "0005_paper_equity"
branch_labels = None
depends_on = None

COLUMNS = ("p_up", "p_down", "p_flat", "base_rate")


def upgrade():
    with op.batch_alter_table("trading_decisions", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("window_start", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("trading_decisions", schema=None) as batch_op:
        batch_op.drop_column("window_start")
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
