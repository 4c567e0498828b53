"""An external deposit is credited once: one deposit entry per reference.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08

`POST /api/v1/admin/deposits` names the transfer it credits (`reference`, the bank's or chain's id). A retried
request, or two operators crediting the same transfer, must not credit it twice; the service answers a retry
with the balance and this index settles a race. A database that holds two deposits under one reference
already fails here, naming the reference: an operator decides which of them to reverse first.
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "CREATE UNIQUE INDEX ledger_entries_deposit_reference_key ON ledger_entries (reference) "
        "WHERE kind = 'deposit'"
    )


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("DROP INDEX ledger_entries_deposit_reference_key")
