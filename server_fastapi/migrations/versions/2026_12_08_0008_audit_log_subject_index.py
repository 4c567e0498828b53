"""An index for reading one subject's audit trail.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08

Compliance officers read the audit log by subject (`withdrawal:42`, `user:<id>`), newest first
(`GET /api/v1/audit/entries?subject=`). Without an index that walked the whole log backwards.
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("CREATE INDEX audit_log_subject_id_idx ON audit_log (subject, id)")


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("DROP INDEX audit_log_subject_id_idx")
