"""warning confirmations: a unit confirms its flagged values when it submits

Revision ID: 9c1e4a7b2d35
Revises: 5b7d2e9c41a0
Create Date: 2026-12-03 13:15:00

"""
from alembic import op
import sqlalchemy as sa


revision = '9c1e4a7b2d35'
down_revision = '5b7d2e9c41a0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('warning_confirmation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('table_code', sa.String(length=20), nullable=False),
    sa.Column('row_key', sa.String(length=40), nullable=False),
    sa.Column('col_key', sa.String(length=40), nullable=False),
    sa.Column('check_id', sa.String(length=300), nullable=False),
    sa.Column('detail', sa.String(length=300), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_warning_confirmation_campaign_id_campaign')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['user.id'], name=op.f('fk_warning_confirmation_confirmed_by_id_user')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_warning_confirmation_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warning_confirmation')),
    sa.UniqueConstraint('campaign_id', 'unit_id', 'table_code', 'row_key', 'col_key', 'check_id',
                        name=op.f('uq_warning_confirmation_cell_check'))
    )
    with op.batch_alter_table('warning_confirmation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_warning_confirmation_campaign_id'), ['campaign_id'], unique=False)


def downgrade():
    with op.batch_alter_table('warning_confirmation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_warning_confirmation_campaign_id'))
    op.drop_table('warning_confirmation')
