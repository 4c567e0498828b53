"""An index for the sentinel's look at recent sign-ins.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22

The wash-trade detector links accounts through the addresses they signed in from: all of a few users'
sessions since a time, ended ones included. The only index on `auth_sessions.user_id` is partial (live
sessions), so that lookup scanned the table, which grows with every sign-in.
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("CREATE INDEX auth_sessions_user_id_created_at_idx ON auth_sessions (user_id, created_at)")


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("DROP INDEX auth_sessions_user_id_created_at_idx")
