"""visits.client_key (the visit form's idempotency key) and centres.report_style (the Word
report's title, issuer and section headings)

Revision ID: b7e3c1a9d214
Revises: 43415b5a9fc3
Create Date: 2026-12-02 14:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e3c1a9d214'
down_revision = '5ec0a7d31b2e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_key', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_visits_client_key'), ['client_key'], unique=True)
    with op.batch_alter_table('centres', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_style', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('centres', schema=None) as batch_op:
        batch_op.drop_column('report_style')
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visits_client_key'))
        batch_op.drop_column('client_key')
