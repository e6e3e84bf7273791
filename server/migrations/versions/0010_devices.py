"""Device report per client id and the phone's clock offset on a visit

Revision ID: 0010_devices
Revises: 0007_rules
Create Date: 2026-12-02 19:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010_devices'
down_revision = '0007_rules'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('clients') as batch_op:
        batch_op.add_column(sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('app_version', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('outbox_count', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('outbox_oldest_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('storage', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('clock_offset_s', sa.Float(), nullable=True))
    with op.batch_alter_table('visits') as batch_op:
        batch_op.add_column(sa.Column('device_clock_offset_min', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('visits') as batch_op:
        batch_op.drop_column('device_clock_offset_min')
    with op.batch_alter_table('clients') as batch_op:
        for name in ('clock_offset_s', 'storage', 'outbox_oldest_at', 'outbox_count',
                     'app_version', 'last_seen_at'):
            batch_op.drop_column(name)
