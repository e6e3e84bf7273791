"""Refused mutations keep their reasons as message keys with parameters
(rejected_mutations.reasons), so the supervisor pages show them in the
reader's language without matching English text back to a template

Revision ID: 0011_exports
Revises: 0009_webhooks
Create Date: 2026-12-02 19:00:00

Rows stored before this revision have no keys (NULL); the page reads their
English ``errors`` through server/messages.py parse().
"""
from alembic import op
import sqlalchemy as sa


revision = '0011_exports'
down_revision = '0009_webhooks'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rejected_mutations') as batch_op:
        batch_op.add_column(sa.Column('reasons', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('rejected_mutations') as batch_op:
        batch_op.drop_column('reasons')
