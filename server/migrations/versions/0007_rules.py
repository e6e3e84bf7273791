"""Contact restrictions: accounts' do-not-visit windows and jurisdiction, and
the relation of the other person met on a visit

Revision ID: 0007_rules
Revises: 0003_hardening
Create Date: 2026-12-05 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007_rules'
down_revision = '0008_trust'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('accounts') as batch_op:
        # Existing accounts have no windows; their jurisdiction stays empty,
        # so they keep the installation's top-level rules they had before.
        batch_op.add_column(sa.Column('do_not_visit', sa.JSON(), server_default=sa.text("'[]'"),
                                      nullable=False))
        batch_op.add_column(sa.Column('jurisdiction', sa.String(length=2), nullable=True))
    with op.batch_alter_table('visits') as batch_op:
        batch_op.add_column(sa.Column('met_relation', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('visits') as batch_op:
        batch_op.drop_column('met_relation')
    with op.batch_alter_table('accounts') as batch_op:
        batch_op.drop_column('jurisdiction')
        batch_op.drop_column('do_not_visit')
