"""stored outline versions, what a campaign's documents print, deactivated units

outline: every outline version loaded, with its text (migrations/env.py stores the shipped files at
the newest revision). Column groups get the explicit keys of the outline files: kl49's positional
keys (b0g1 …) of assignments and stored values become the file's (xa, huyen …). The request that
kl49.yaml printed under its title (Tam Đường's Công văn 1241-CV/HU) is not carried over: it was
another district's; each campaign now names its own (request_document).

Revision ID: 5b7d2e9c41a0
Revises: 186566cef95f
Create Date: 2026-12-03 10:05:00

"""
from alembic import op
import sqlalchemy as sa


revision = '5b7d2e9c41a0'
down_revision = '186566cef95f'
branch_labels = None
depends_on = None

# kl49@1's column groups, positional key → the key of the file (frozen here: a migration must not
# read a file that later versions change)
KL49_GROUP_KEYS = {
    "II.1.1": {"b0g0": "xa", "b0g1": "huyen"},
    "II.1.2": {"b0g0": "xa", "b0g1": "huyen"},
    "II.1.3": {"b0g0": "mu_chu", "b0g1": "d35", "b0g2": "d60", "b0g3": "ghi_chu_1", "b1g0": "tong"},
    "II.1.4": {"b0g0": "tu_xa"},
    "II.1.5": {"b0g0": "xa", "b0g1": "huyen", "b0g2": "tinh"},
    "II.1.6": {"b0g0": "nghe"},
    "II.1.7": {"b0g0": "nghe"},
    "II.1.8": {"b0g0": "cong_nhan"},
    "III": {"b0g0": "xa", "b0g1": "huyen", "b0g2": "ghi_chu"},
}
CAMPAIGN_TEXT_COLUMNS = [("request_document", 300), ("issuer_name", 200), ("issuer_parent", 200),
                         ("report_number", 60), ("report_place", 100), ("signer_title", 200),
                         ("signer_name", 120)]


def _rekey(forward: bool) -> None:
    kl49 = sa.text("SELECT id FROM campaign WHERE outline_code = 'kl49' AND outline_version = 1")
    campaign_ids = [row[0] for row in op.get_bind().execute(kl49)]
    if not campaign_ids:
        return
    for table_name in ("assignment", "cell_value"):
        for table_code, keys in KL49_GROUP_KEYS.items():
            for old, new in keys.items():
                before, after = (old, new) if forward else (new, old)
                op.get_bind().execute(
                    sa.text(f"UPDATE {table_name} SET group_key = :after WHERE group_key = :before "
                            "AND table_code = :table AND campaign_id IN :ids")
                    .bindparams(sa.bindparam("ids", expanding=True)),
                    {"after": after, "before": before, "table": table_code, "ids": campaign_ids})


def upgrade():
    op.create_table('outline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('loaded_at', sa.DateTime(), nullable=False),
    sa.Column('loaded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['loaded_by_id'], ['user.id'], name=op.f('fk_outline_loaded_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outline')),
    sa.UniqueConstraint('code', 'version', name=op.f('uq_outline_code_version'))
    )
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        for name, length in CAMPAIGN_TEXT_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=length), server_default='', nullable=False))
        batch_op.add_column(sa.Column('issuer_is_party', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('report_date', sa.Date(), nullable=True))
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))
    _rekey(forward=True)


def downgrade():
    _rekey(forward=False)
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_column('active')
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('report_date')
        batch_op.drop_column('issuer_is_party')
        for name, _ in reversed(CAMPAIGN_TEXT_COLUMNS):
            batch_op.drop_column(name)
    op.drop_table('outline')
