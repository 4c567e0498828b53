"""KYC profiles with per-user data keys, the hash-chained audit log, market-abuse alerts.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22

The audit chain. Every entry stores `prev_hash` (the previous entry's `hash`; 64 zeros for the first) and
`hash` = sha256 of `audit_entry_canonical(...)`: the text of a JSON array
`[id, occurred_at, actor_id, action, subject, ip, request_id, details, prev_hash]` as PostgreSQL renders
`jsonb` (keys ordered by length then bytes, `", "` and `": "` separators), with `occurred_at` as
`YYYY-MM-DDTHH:MM:SS.ffffffZ` in UTC and `ip` as `inet::text`. `compliance/audit_chain.py` computes the same
bytes in Python; a test keeps the two in agreement.

A BEFORE INSERT trigger computes both hashes, so every writer is covered whatever it inserts. It locks the
one-row `audit_chain_head` (FOR UPDATE, held until commit) and draws the entry's id from the identity
sequence only then, so ids follow the chain: verification walks entries by id. Writers therefore serialise
on the audit log for the rest of their transaction (keep audited transactions short); a REPEATABLE READ
writer that lost the race gets a serialization failure, never a fork.

The database refuses UPDATE, DELETE and TRUNCATE of `audit_log` with triggers (which bind the table's owner
too: in dev the API connects as the cluster owner, so the triggers are what enforces it there) and by
privileges for every other role (REVOKE ... FROM PUBLIC; grant a production app role INSERT and SELECT
only). A superuser can still disable triggers; `GET /api/v1/audit/verify` and `python -m server_fastapi
audit-verify` detect what such a person changed.
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")

    # --- the audit chain ------------------------------------------------------------------------------
    op.execute("ALTER TABLE audit_log ADD COLUMN prev_hash text, ADD COLUMN hash text")
    # The trigger draws ids itself, after taking the chain lock; an identity default would draw one earlier,
    # in arrival order, and ids would no longer follow the chain.
    op.execute("ALTER TABLE audit_log ALTER COLUMN id DROP IDENTITY")
    op.execute("CREATE SEQUENCE audit_log_id_seq AS bigint OWNED BY audit_log.id")
    op.execute("SELECT setval('audit_log_id_seq', coalesce(max(id), 0) + 1, false) FROM audit_log")
    op.execute(
        """
        CREATE FUNCTION audit_entry_canonical(
            p_id bigint, p_occurred_at timestamptz, p_actor_id uuid, p_action text, p_subject text,
            p_ip inet, p_request_id text, p_details jsonb, p_prev_hash text
        ) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$
            SELECT jsonb_build_array(
                p_id,
                to_char(p_occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                p_actor_id::text,
                p_action,
                p_subject,
                p_ip::text,
                p_request_id,
                p_details,
                p_prev_hash
            )::text
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION audit_entry_hash(
            p_id bigint, p_occurred_at timestamptz, p_actor_id uuid, p_action text, p_subject text,
            p_ip inet, p_request_id text, p_details jsonb, p_prev_hash text
        ) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$
            SELECT encode(sha256(convert_to(audit_entry_canonical(
                p_id, p_occurred_at, p_actor_id, p_action, p_subject, p_ip, p_request_id, p_details, p_prev_hash
            ), 'UTF8')), 'hex')
        $$
        """
    )
    # Backfill the entries written before this migration, in id order, before the guards exist.
    op.execute(
        """
        DO $$
        DECLARE
            entry record;
            previous text := repeat('0', 64);
        BEGIN
            FOR entry IN SELECT * FROM audit_log ORDER BY id LOOP
                UPDATE audit_log
                   SET prev_hash = previous,
                       hash = audit_entry_hash(entry.id, entry.occurred_at, entry.actor_id, entry.action,
                                               entry.subject, entry.ip, entry.request_id, entry.details,
                                               previous)
                 WHERE id = entry.id
                RETURNING hash INTO previous;
            END LOOP;
        END
        $$
        """
    )
    op.execute(
        """
        ALTER TABLE audit_log
            ALTER COLUMN prev_hash SET NOT NULL,
            ALTER COLUMN hash SET NOT NULL,
            ADD CONSTRAINT audit_log_hash_check CHECK (hash ~ '^[0-9a-f]{64}$'),
            ADD CONSTRAINT audit_log_prev_hash_check CHECK (prev_hash ~ '^[0-9a-f]{64}$')
        """
    )
    op.execute(
        """
        CREATE TABLE audit_chain_head (
            singleton boolean NOT NULL DEFAULT true,
            last_id bigint,
            last_hash text NOT NULL DEFAULT repeat('0', 64),
            entries bigint NOT NULL DEFAULT 0,
            CONSTRAINT audit_chain_head_pkey PRIMARY KEY (singleton),
            CONSTRAINT audit_chain_head_singleton_check CHECK (singleton)
        )
        """
    )
    op.execute(
        """
        INSERT INTO audit_chain_head (last_id, last_hash, entries)
        SELECT max(id), coalesce((SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), repeat('0', 64)),
               count(*)
          FROM audit_log
        """
    )
    op.execute(
        """
        CREATE FUNCTION audit_log_chain() RETURNS trigger
        LANGUAGE plpgsql
        SECURITY DEFINER SET search_path = public, pg_temp
        AS $$
        DECLARE
            head audit_chain_head%ROWTYPE;
        BEGIN
            SELECT * INTO head FROM audit_chain_head WHERE singleton FOR UPDATE;
            NEW.id := nextval('audit_log_id_seq');
            NEW.prev_hash := head.last_hash;
            NEW.hash := audit_entry_hash(NEW.id, NEW.occurred_at, NEW.actor_id, NEW.action, NEW.subject,
                                         NEW.ip, NEW.request_id, NEW.details, NEW.prev_hash);
            UPDATE audit_chain_head
               SET last_id = NEW.id, last_hash = NEW.hash, entries = entries + 1
             WHERE singleton;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
            FOR EACH ROW EXECUTE FUNCTION audit_log_chain()
        """
    )
    op.execute(
        """
        CREATE FUNCTION audit_log_refuse_change() RETURNS trigger
        LANGUAGE plpgsql
        AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only: % is refused', TG_OP
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'Audit entries are never changed or removed; append a new entry instead.';
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER audit_log_refuse_change BEFORE UPDATE OR DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()
        """
    )
    op.execute(
        """
        CREATE TRIGGER audit_log_refuse_truncate BEFORE TRUNCATE ON audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()
        """
    )
    op.execute(
        """
        CREATE TRIGGER audit_chain_head_refuse_delete BEFORE DELETE ON audit_chain_head
            FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()
        """
    )
    op.execute("REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC")
    op.execute("REVOKE UPDATE, DELETE, TRUNCATE ON audit_chain_head FROM PUBLIC")

    # --- KYC: per-user data keys (wrapped by the master key) and the encrypted profiles ------------------
    op.execute(
        """
        CREATE TABLE kyc_data_keys (
            user_id uuid NOT NULL,
            wrapped_key bytea,
            master_key_id text,
            created_at timestamptz NOT NULL DEFAULT now(),
            destroyed_at timestamptz,
            CONSTRAINT kyc_data_keys_pkey PRIMARY KEY (user_id),
            CONSTRAINT kyc_data_keys_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id),
            CONSTRAINT kyc_data_keys_destroyed_check CHECK ((destroyed_at IS NULL) = (wrapped_key IS NOT NULL))
        )
        """
    )
    op.execute(
        """
        CREATE TABLE kyc_profiles (
            user_id uuid NOT NULL,
            kind text NOT NULL DEFAULT 'natural_person',
            ciphertext bytea NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT kyc_profiles_pkey PRIMARY KEY (user_id),
            CONSTRAINT kyc_profiles_user_id_fkey FOREIGN KEY (user_id) REFERENCES kyc_data_keys (user_id),
            CONSTRAINT kyc_profiles_kind_check CHECK (kind IN ('natural_person'))
        )
        """
    )

    # --- market-abuse alerts ---------------------------------------------------------------------------
    op.execute(
        """
        CREATE TABLE compliance_alerts (
            id bigint GENERATED ALWAYS AS IDENTITY,
            fingerprint text NOT NULL,
            kind text NOT NULL,
            symbol text NOT NULL,
            accounts uuid[] NOT NULL,
            severity text NOT NULL,
            summary text NOT NULL,
            evidence jsonb NOT NULL,
            window_start timestamptz NOT NULL,
            window_end timestamptz NOT NULL,
            detected_at timestamptz NOT NULL,
            status text NOT NULL DEFAULT 'open',
            created_at timestamptz NOT NULL DEFAULT now(),
            acknowledged_by uuid,
            acknowledged_at timestamptz,
            resolved_by uuid,
            resolved_at timestamptz,
            resolution_comment text,
            CONSTRAINT compliance_alerts_pkey PRIMARY KEY (id),
            CONSTRAINT compliance_alerts_fingerprint_key UNIQUE (fingerprint),
            CONSTRAINT compliance_alerts_kind_check CHECK (
                kind IN ('wash_trade', 'round_trip', 'layering', 'volume_spike')
            ),
            CONSTRAINT compliance_alerts_severity_check CHECK (severity IN ('low', 'medium', 'high')),
            CONSTRAINT compliance_alerts_status_check CHECK (status IN ('open', 'acknowledged', 'resolved')),
            CONSTRAINT compliance_alerts_acknowledged_by_fkey FOREIGN KEY (acknowledged_by) REFERENCES users (id),
            CONSTRAINT compliance_alerts_resolved_by_fkey FOREIGN KEY (resolved_by) REFERENCES users (id),
            CONSTRAINT compliance_alerts_resolution_check CHECK (
                (status = 'resolved') = (resolved_at IS NOT NULL AND resolution_comment IS NOT NULL)
            )
        )
        """
    )
    op.execute("CREATE INDEX compliance_alerts_status_id_idx ON compliance_alerts (status, id DESC)")
    op.execute("CREATE INDEX compliance_alerts_accounts_idx ON compliance_alerts USING gin (accounts)")


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("DROP TABLE IF EXISTS compliance_alerts")
    op.execute("DROP TABLE IF EXISTS kyc_profiles")
    op.execute("DROP TABLE IF EXISTS kyc_data_keys")
    op.execute("DROP TRIGGER IF EXISTS audit_log_refuse_truncate ON audit_log")
    op.execute("DROP TRIGGER IF EXISTS audit_log_refuse_change ON audit_log")
    op.execute("DROP TRIGGER IF EXISTS audit_log_chain ON audit_log")
    op.execute("DROP TABLE IF EXISTS audit_chain_head")
    op.execute("DROP FUNCTION IF EXISTS audit_log_refuse_change()")
    op.execute("DROP FUNCTION IF EXISTS audit_log_chain()")
    op.execute("ALTER TABLE audit_log DROP COLUMN IF EXISTS hash, DROP COLUMN IF EXISTS prev_hash")
    op.execute("DROP SEQUENCE IF EXISTS audit_log_id_seq")
    op.execute("ALTER TABLE audit_log ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY")
    op.execute(
        "SELECT setval(pg_get_serial_sequence('audit_log', 'id'), coalesce(max(id), 0) + 1, false) FROM audit_log"
    )
    op.execute(
        "DROP FUNCTION IF EXISTS audit_entry_hash(bigint, timestamptz, uuid, text, text, inet, text, jsonb, text)"
    )
    op.execute(
        "DROP FUNCTION IF EXISTS audit_entry_canonical(bigint, timestamptz, uuid, text, text, inet, text, jsonb, "
        "text)"
    )
