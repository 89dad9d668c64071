"""text embeddings (sentence vectors keyed by text hash) and the embedding step's progress

Revision ID: 7c1e5a2b9d40
Revises: 43415b5a9fc3
Create Date: 2026-12-02 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c1e5a2b9d40'
down_revision = 'a9e1c4b7d2f0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('text_embeddings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('model', sa.String(length=30), nullable=False),
    sa.Column('dim', sa.Integer(), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_text_embeddings'))
    )
    with op.batch_alter_table('text_embeddings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_text_embeddings_model'), ['model'], unique=False)

    op.create_table('embedding_progress',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model', sa.String(length=30), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_embedding_progress'))
    )


def downgrade():
    op.drop_table('embedding_progress')
    with op.batch_alter_table('text_embeddings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_text_embeddings_model'))

    op.drop_table('text_embeddings')
