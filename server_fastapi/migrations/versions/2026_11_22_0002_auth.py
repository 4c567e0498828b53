"""Accounts, sessions, API keys and the audit log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    # `email` is stored in its normalised form (trimmed, NFKC, lower case), so the unique constraint is on
    # what a person means by "my address". An erased account keeps its row (others reference it) with the
    # personal fields blanked and the address replaced by one that cannot collide.
    op.execute(
        """
        CREATE TABLE users (
            id uuid NOT NULL DEFAULT gen_random_uuid(),
            email text NOT NULL,
            display_name text,
            password_hash text,
            role text NOT NULL DEFAULT 'trader',
            totp_secret bytea,
            totp_enabled_at timestamptz,
            totp_last_step bigint,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            erased_at timestamptz,
            CONSTRAINT users_pkey PRIMARY KEY (id),
            CONSTRAINT users_email_key UNIQUE (email),
            CONSTRAINT users_email_normalised_check CHECK (email = lower(btrim(email)) AND email <> ''),
            CONSTRAINT users_role_check CHECK (role IN ('trader', 'compliance', 'admin')),
            CONSTRAINT users_totp_enabled_has_secret_check CHECK (totp_enabled_at IS NULL OR totp_secret IS NOT NULL)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE user_recovery_codes (
            id bigint GENERATED ALWAYS AS IDENTITY,
            user_id uuid NOT NULL,
            code_hash bytea NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            used_at timestamptz,
            CONSTRAINT user_recovery_codes_pkey PRIMARY KEY (id),
            CONSTRAINT user_recovery_codes_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
            CONSTRAINT user_recovery_codes_user_code_key UNIQUE (user_id, code_hash)
        )
        """
    )
    # A session is one sign-in; its refresh tokens form a family. Access tokens carry the session id, so
    # revoking the session (logout, reuse detection) ends every token of it at once.
    op.execute(
        """
        CREATE TABLE auth_sessions (
            id uuid NOT NULL DEFAULT gen_random_uuid(),
            user_id uuid NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            revoked_at timestamptz,
            revoked_reason text,
            ip inet,
            user_agent text,
            CONSTRAINT auth_sessions_pkey PRIMARY KEY (id),
            CONSTRAINT auth_sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
            CONSTRAINT auth_sessions_revoked_reason_check CHECK (
                revoked_reason IS NULL OR revoked_reason IN ('logout', 'reuse', 'erasure', 'password', 'admin')
            )
        )
        """
    )
    op.execute("CREATE INDEX auth_sessions_user_id_idx ON auth_sessions (user_id) WHERE revoked_at IS NULL")
    op.execute(
        """
        CREATE TABLE refresh_tokens (
            id uuid NOT NULL DEFAULT gen_random_uuid(),
            session_id uuid NOT NULL,
            token_hash bytea NOT NULL,
            parent_id uuid,
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            used_at timestamptz,
            CONSTRAINT refresh_tokens_pkey PRIMARY KEY (id),
            CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash),
            CONSTRAINT refresh_tokens_session_id_fkey FOREIGN KEY (session_id) REFERENCES auth_sessions (id) ON DELETE CASCADE,
            CONSTRAINT refresh_tokens_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES refresh_tokens (id) ON DELETE SET NULL
        )
        """
    )
    op.execute("CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id)")
    op.execute(
        """
        CREATE TABLE api_keys (
            id uuid NOT NULL DEFAULT gen_random_uuid(),
            user_id uuid NOT NULL,
            name text NOT NULL,
            prefix text NOT NULL,
            secret_hash bytea NOT NULL,
            scopes text[] NOT NULL,
            ip_allowlist cidr[],
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz,
            last_used_at timestamptz,
            revoked_at timestamptz,
            CONSTRAINT api_keys_pkey PRIMARY KEY (id),
            CONSTRAINT api_keys_secret_hash_key UNIQUE (secret_hash),
            CONSTRAINT api_keys_prefix_key UNIQUE (prefix),
            CONSTRAINT api_keys_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
            CONSTRAINT api_keys_scopes_check CHECK (
                cardinality(scopes) > 0 AND scopes <@ ARRAY['read', 'trade']::text[]
            ),
            CONSTRAINT api_keys_name_check CHECK (char_length(name) BETWEEN 1 AND 100)
        )
        """
    )
    op.execute("CREATE INDEX api_keys_user_id_idx ON api_keys (user_id)")
    op.execute(
        """
        CREATE TABLE audit_log (
            id bigint GENERATED ALWAYS AS IDENTITY,
            occurred_at timestamptz NOT NULL DEFAULT now(),
            actor_id uuid,
            action text NOT NULL,
            subject text,
            ip inet,
            request_id text,
            details jsonb NOT NULL DEFAULT '{}',
            CONSTRAINT audit_log_pkey PRIMARY KEY (id)
        )
        """
    )
    op.execute("CREATE INDEX audit_log_actor_id_idx ON audit_log (actor_id, occurred_at)")
    op.execute("CREATE INDEX audit_log_action_idx ON audit_log (action, occurred_at)")


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("DROP TABLE IF EXISTS audit_log")
    op.execute("DROP TABLE IF EXISTS api_keys")
    op.execute("DROP TABLE IF EXISTS refresh_tokens")
    op.execute("DROP TABLE IF EXISTS auth_sessions")
    op.execute("DROP TABLE IF EXISTS user_recovery_codes")
    op.execute("DROP TABLE IF EXISTS users")
