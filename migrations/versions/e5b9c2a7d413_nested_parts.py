"""nested levels: a unit's part fed by another campaign, and its snapshot at submission

campaign_unit.source_campaign_id: the campaign whose assembled appendix is this unit's part (a
district's own campaign feeding the district's part of a province campaign); NULL for a unit that
enters its own cells. campaign_unit.snapshot: that assembled appendix as it stood when the part was
submitted (JSON of a domain.parts.Part); NULL while the part is open (it is assembled live).
No foreign key on source_campaign_id: a second one from campaign_unit to campaign would make every
join of the two tables ambiguous (campaigns are never deleted; nesting.link names an existing one).

Revision ID: e5b9c2a7d413
Revises: d7a3e5f19c20
Create Date: 2026-12-03 17:25:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e5b9c2a7d413'
down_revision = 'd7a3e5f19c20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaign_unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_campaign_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('snapshot', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('campaign_unit', schema=None) as batch_op:
        batch_op.drop_column('snapshot')
        batch_op.drop_column('source_campaign_id')
