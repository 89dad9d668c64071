"""need search index (bigram terms, FTS5 / GIN), indexes for list sorts and record history

Revision ID: c3d4e5f6a7b8
Revises: b7c1d2e3f4a5
Create Date: 2026-12-02 14:10:00

"""
from alembic import op
import sqlalchemy as sa

from needs_tracker.needs import search


# revision identifiers, used by Alembic.
revision = 'c3d4e5f6a7b8'
down_revision = 'b7e3c1a9d214'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('search_terms', sa.Text(), server_default='', nullable=False)
        )
        batch_op.create_index('ix_needs_centre_collected', ['centre_id', 'collected_on', 'id'])
        batch_op.create_index('ix_needs_collected_id', ['collected_on', 'id'])
        batch_op.create_index(
            'ix_needs_centre_status_collected', ['centre_id', 'status', 'collected_on']
        )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index('ix_visits_centre_date', ['centre_id', 'visit_date', 'id'])
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.create_index('ix_organisations_centre_name', ['centre_id', 'name'])
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entries_record', ['table_name', 'record_id'])
        batch_op.create_index('ix_audit_entries_parent', ['parent_table', 'parent_id'])
    bind = op.get_bind()
    needs = sa.table(
        'needs',
        sa.column('id', sa.Integer),
        sa.column('title', sa.String),
        sa.column('description', sa.Text),
        sa.column('search_terms', sa.Text),
    )
    rows = bind.execute(sa.select(needs.c.id, needs.c.title, needs.c.description)).all()
    update = (
        needs.update()
        .where(needs.c.id == sa.bindparam('nid'))
        .values(search_terms=sa.bindparam('terms'))
    )
    for start in range(0, len(rows), 2000):
        chunk = rows[start : start + 2000]
        bind.execute(
            update,
            [{'nid': r.id, 'terms': search.search_terms(r.title, r.description)} for r in chunk],
        )
    ddl = {'sqlite': search.SQLITE_DDL, 'postgresql': search.PG_DDL}.get(bind.dialect.name, [])
    for stmt in ddl:
        op.execute(stmt)
    if bind.dialect.name == 'sqlite':
        op.execute(f"INSERT INTO {search.FTS_TABLE}({search.FTS_TABLE}) VALUES ('rebuild')")


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        for suffix in ('ai', 'ad', 'au'):
            op.execute(f'DROP TRIGGER IF EXISTS {search.FTS_TABLE}_{suffix}')
        for stmt in search.SQLITE_DROP:
            op.execute(stmt)
    elif bind.dialect.name == 'postgresql':
        for stmt in search.PG_DROP:
            op.execute(stmt)
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_parent')
        batch_op.drop_index('ix_audit_entries_record')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_index('ix_organisations_centre_name')
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index('ix_visits_centre_date')
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.drop_index('ix_needs_centre_status_collected')
        batch_op.drop_index('ix_needs_collected_id')
        batch_op.drop_index('ix_needs_centre_collected')
        batch_op.drop_column('search_terms')
