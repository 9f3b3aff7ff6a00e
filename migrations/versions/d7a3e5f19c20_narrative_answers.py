"""narrative answers: each unit's text per section of the report, and the compiler's draft

narrative_answer: one row per (campaign, unit, section, kind), kind "answer" (a reporting unit's
text) or "draft" (the compiler's draft of the district's section), with a version for
no-lost-update saves. Campaigns on outlines without sections simply have no rows.

Revision ID: d7a3e5f19c20
Revises: c4d81f0a6e2b
Create Date: 2026-12-03 16:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'd7a3e5f19c20'
down_revision = 'c4d81f0a6e2b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('narrative_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('section_code', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=10), server_default='answer', nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_narrative_answer_campaign_id_campaign')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_narrative_answer_unit_id_unit')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_narrative_answer_updated_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_narrative_answer')),
    sa.UniqueConstraint('campaign_id', 'unit_id', 'section_code', 'kind', name='uq_narrative_answer_section')
    )
    with op.batch_alter_table('narrative_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_narrative_answer_campaign_id'), ['campaign_id'], unique=False)


def downgrade():
    with op.batch_alter_table('narrative_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_narrative_answer_campaign_id'))
    op.drop_table('narrative_answer')
