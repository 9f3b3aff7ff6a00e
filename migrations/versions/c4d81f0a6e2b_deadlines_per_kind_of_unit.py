"""a deadline per kind of unit within a campaign

campaign_deadline: the deadline of the units of one kind in a campaign, overriding the campaign's
(seed 001: communes and districts hand in by 31/8/2020, the province later). A kind without a row
keeps the campaign's deadline, so existing campaigns are unchanged.

Revision ID: c4d81f0a6e2b
Revises: 9c1e4a7b2d35
Create Date: 2026-12-03 13:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c4d81f0a6e2b'
down_revision = '9c1e4a7b2d35'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('campaign_deadline',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('unit_kind', sa.String(length=30), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_deadline_campaign_id_campaign')),
    sa.PrimaryKeyConstraint('campaign_id', 'unit_kind', name=op.f('pk_campaign_deadline'))
    )


def downgrade():
    op.drop_table('campaign_deadline')
