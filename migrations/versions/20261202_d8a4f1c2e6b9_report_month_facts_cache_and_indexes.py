"""report facts: cache of closed months' facts, covering indexes for their grouped queries

Revision ID: d8a4f1c2e6b9
Revises: 7c1e5a2b9d40
Create Date: 2026-12-02 18:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd8a4f1c2e6b9'
down_revision = '7c1e5a2b9d40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'report_month_facts',
        sa.Column('scope', sa.String(length=20), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('generation', sa.Integer(), nullable=False),
        sa.Column('facts', sa.Text(), nullable=True),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('scope', 'month', 'version'),
    )
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.create_index(
            'ix_needs_report_facts',
            [
                'collected_on',
                'centre_id',
                'status',
                'need_type',
                'urgency',
                'organisation_id',
                'deleted_at',
                'id',
            ],
        )
    with op.batch_alter_table('need_status_changes', schema=None) as batch_op:
        batch_op.create_index(
            'ix_need_status_changes_changed',
            ['changed_at', 'to_status', 'from_status', 'need_id'],
        )


def downgrade():
    with op.batch_alter_table('need_status_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_need_status_changes_changed')
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.drop_index('ix_needs_report_facts')
    op.drop_table('report_month_facts')
