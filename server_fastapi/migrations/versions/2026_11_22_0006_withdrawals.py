"""Withdrawals and the hot wallets' nonces.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22

`wallet_nonces` holds the next nonce of each hot-wallet key on each chain. The processor locks the row
(FOR UPDATE), has the transaction signed with that nonce, stores it in the withdrawal and advances the row in
the same transaction: two API processes never share a nonce, and a signature that is not stored leaves no
gap. The unique index on (hot_key_id, chain_id, nonce) is the last line of that guarantee; it leaves out
failed withdrawals because a transaction the node refused never used its nonce, which is then handed out
again when it was the last one allocated.

`travel_rule` is the IVMS101 record sealed under the trader's KYC data key (compliance's envelope
encryption), so erasing the trader's personal data shreds it too.
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        """
        CREATE TABLE withdrawals (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            user_id uuid NOT NULL REFERENCES users (id),
            asset text NOT NULL REFERENCES assets (code),
            amount numeric NOT NULL CHECK (amount > 0),
            fee numeric NOT NULL CHECK (fee >= 0),
            chain_id bigint NOT NULL CHECK (chain_id > 0),
            destination text NOT NULL CHECK (destination ~ '^0x[0-9a-fA-F]{40}$'),
            status text NOT NULL CHECK (status IN (
                'requested', 'pending_review', 'approved', 'signed', 'broadcast', 'confirmed', 'failed',
                'rejected'
            )),
            review_reasons text[] NOT NULL DEFAULT '{}',
            travel_rule bytea NOT NULL,
            hot_key_id text NOT NULL,
            from_address text,
            nonce bigint CHECK (nonce >= 0),
            raw_transaction text,
            tx_hash text,
            failure_reason text,
            reviewed_by uuid REFERENCES users (id),
            review_comment text,
            reviewed_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CHECK (status NOT IN ('signed', 'broadcast', 'confirmed')
                   OR (nonce IS NOT NULL AND raw_transaction IS NOT NULL AND tx_hash IS NOT NULL))
        )
        """
    )
    op.execute(
        "CREATE UNIQUE INDEX withdrawals_nonce ON withdrawals (hot_key_id, chain_id, nonce) "
        "WHERE status <> 'failed'"
    )
    op.execute("CREATE INDEX withdrawals_user ON withdrawals (user_id, id DESC)")
    op.execute("CREATE INDEX withdrawals_status ON withdrawals (status, id DESC)")
    op.execute(
        "CREATE INDEX withdrawals_confirmed_destination ON withdrawals (user_id, chain_id, destination) "
        "WHERE status = 'confirmed'"
    )
    op.execute(
        """
        CREATE TABLE wallet_nonces (
            key_id text NOT NULL,
            chain_id bigint NOT NULL CHECK (chain_id > 0),
            next_nonce bigint NOT NULL CHECK (next_nonce >= 0),
            PRIMARY KEY (key_id, chain_id)
        )
        """
    )


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("DROP TABLE wallet_nonces")
    op.execute("DROP TABLE withdrawals")
