"""indexes for the assembly: the owned values in the order of the assignments, and the notes

ix_cell_value_owner: every column the assembly's sum and the dashboard's counts read, in the order of
assignment's unique key (campaign, unit, table, group), so that both databases join the two indexes
in order and never read the table (a covering index; no INCLUDE: SQLite has none).
ix_cell_value_note: the notes only (a partial index of the values with a text), by cell, with the
unit and group: the appendix ranks the notes of each cell on it (the first few shown) without reading
the table, and reads the texts of those only.

Revision ID: f3a8d1c6b902
Revises: e5b9c2a7d413
Create Date: 2026-12-03 19:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'f3a8d1c6b902'
down_revision = 'e5b9c2a7d413'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_cell_value_owner', 'cell_value',
                    ['campaign_id', 'unit_id', 'table_code', 'group_key', 'row_key', 'col_key', 'num'])
    noted = sa.text("text IS NOT NULL AND text != ''")
    op.create_index('ix_cell_value_note', 'cell_value',
                    ['campaign_id', 'table_code', 'row_key', 'col_key', 'unit_id', 'group_key'],
                    postgresql_where=noted, sqlite_where=noted)


def downgrade():
    op.drop_index('ix_cell_value_note', table_name='cell_value')
    op.drop_index('ix_cell_value_owner', table_name='cell_value')
