"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from alembic import op

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade() -> None:
    # Fail fast instead of queueing behind a long transaction and blocking every query after us.
    op.execute("SET LOCAL lock_timeout = '5s'")
    ${upgrades if upgrades else 'op.execute("")'}


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    ${downgrades if downgrades else 'op.execute("")'}
