"""import batches: merged_count and the skipped rows (listed and downloadable on the batch page)

Revision ID: b7c1d2e3f4a5
Revises: 43415b5a9fc3
Create Date: 2026-12-02 13:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7c1d2e3f4a5'
down_revision = '43415b5a9fc3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('merged_count', sa.Integer(), server_default='0', nullable=False)
        )
        batch_op.add_column(sa.Column('skipped_rows', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.drop_column('skipped_rows')
        batch_op.drop_column('merged_count')
