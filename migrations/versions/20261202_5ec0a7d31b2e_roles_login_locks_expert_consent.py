"""system admins, per-address login locks, expert contact source and consent

Existing admins were global; they become system admins so that nobody loses access
(centre admins are made afterwards, with `user create --role admin --centre NAME`).

Revision ID: 5ec0a7d31b2e
Revises: 43415b5a9fc3
Create Date: 2026-12-02 14:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5ec0a7d31b2e'
down_revision = 'b7c1d2e3f4a5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_login_failures_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures')),
    sa.UniqueConstraint('user_id', 'address', name=op.f('uq_login_failures_user_id_address'))
    )
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_failures_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('experts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_source', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('contact_consent', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('consent_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('consent_purpose', sa.String(length=200), nullable=False, server_default=''))
    with op.batch_alter_table('experts', schema=None) as batch_op:
        batch_op.alter_column('contact_source', server_default=None)
        batch_op.alter_column('contact_consent', server_default=None)
        batch_op.alter_column('consent_purpose', server_default=None)

    # Data: every admin so far administered every centre.
    op.execute("UPDATE users SET role = 'sysadmin' WHERE role = 'admin'")


def downgrade():
    op.execute("UPDATE users SET role = 'admin' WHERE role = 'sysadmin'")
    with op.batch_alter_table('experts', schema=None) as batch_op:
        batch_op.drop_column('consent_purpose')
        batch_op.drop_column('consent_on')
        batch_op.drop_column('contact_consent')
        batch_op.drop_column('contact_source')

    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_failures_user_id'))

    op.drop_table('login_failures')
