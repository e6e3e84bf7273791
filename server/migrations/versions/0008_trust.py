"""Evidence that can be checked: the mark of where the keyed history chain
starts (audit_marks), and the age of a check-in's position fix

Revision ID: 0008_trust
Revises: 0003_hardening
Create Date: 2026-12-03 10:00:00

Rows written before FIELDVISIT_AUDIT_KEY is set keep their plain SHA-256
hashes and verify as before; the first keyed write adds the mark.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_trust'
down_revision = '0006_attachments'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_marks',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('keyed_after', sa.String(length=64), nullable=False),
    sa.Column('mac', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('visits') as batch_op:
        batch_op.add_column(sa.Column('checkin_fix_age_s', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('visits') as batch_op:
        batch_op.drop_column('checkin_fix_age_s')
    op.drop_table('audit_marks')
