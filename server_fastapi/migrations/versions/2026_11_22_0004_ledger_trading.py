"""Ledger accounts and postings, orders and trades.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    # --- ledger: double entry; balances are maintained by a trigger from the postings, so they can never
    # disagree with them, and a deferred constraint trigger refuses any entry that does not balance.
    op.execute(
        """
        CREATE TABLE ledger_accounts (
            id bigserial PRIMARY KEY,
            owner_id uuid REFERENCES users (id),
            asset text NOT NULL REFERENCES assets (code),
            kind text NOT NULL,
            available numeric NOT NULL DEFAULT 0,
            held numeric NOT NULL DEFAULT 0,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT ledger_accounts_kind_check CHECK (kind IN ('user', 'fees', 'external')),
            CONSTRAINT ledger_accounts_owner_check CHECK ((kind = 'user') = (owner_id IS NOT NULL)),
            CONSTRAINT ledger_accounts_user_non_negative_check
                CHECK (kind <> 'user' OR (available >= 0 AND held >= 0)),
            CONSTRAINT ledger_accounts_owner_asset_kind_key UNIQUE NULLS NOT DISTINCT (owner_id, asset, kind)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE ledger_entries (
            id bigserial PRIMARY KEY,
            kind text NOT NULL,
            reference text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT ledger_entries_kind_check CHECK (
                kind IN ('deposit', 'faucet', 'hold', 'release', 'trade', 'fee', 'withdrawal', 'adjustment')
            )
        )
        """
    )
    op.execute(
        """
        CREATE TABLE ledger_postings (
            id bigserial PRIMARY KEY,
            entry_id bigint NOT NULL REFERENCES ledger_entries (id),
            account_id bigint NOT NULL REFERENCES ledger_accounts (id),
            bucket text NOT NULL,
            asset text NOT NULL REFERENCES assets (code),
            amount numeric NOT NULL,
            CONSTRAINT ledger_postings_bucket_check CHECK (bucket IN ('available', 'held')),
            CONSTRAINT ledger_postings_amount_check CHECK (amount <> 0)
        )
        """
    )
    op.execute(
        """
        CREATE INDEX ledger_postings_entry_id_idx ON ledger_postings (entry_id)
        """
    )
    op.execute(
        """
        CREATE INDEX ledger_postings_account_id_idx ON ledger_postings (account_id)
        """
    )
    op.execute(
        """
        CREATE FUNCTION ledger_apply_posting() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.bucket = 'available' THEN
                UPDATE ledger_accounts SET available = available + NEW.amount
                 WHERE id = NEW.account_id AND asset = NEW.asset;
            ELSE
                UPDATE ledger_accounts SET held = held + NEW.amount
                 WHERE id = NEW.account_id AND asset = NEW.asset;
            END IF;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'posting % names account % in the wrong asset', NEW.id, NEW.account_id;
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER ledger_postings_apply AFTER INSERT ON ledger_postings
            FOR EACH ROW EXECUTE FUNCTION ledger_apply_posting()
        """
    )
    op.execute(
        """
        CREATE FUNCTION ledger_check_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE unbalanced text;
        BEGIN
            SELECT asset INTO unbalanced FROM ledger_postings WHERE entry_id = NEW.entry_id
             GROUP BY asset HAVING sum(amount) <> 0 LIMIT 1;
            IF unbalanced IS NOT NULL THEN
                RAISE EXCEPTION 'ledger entry % does not balance in %', NEW.entry_id, unbalanced
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE CONSTRAINT TRIGGER ledger_postings_balanced AFTER INSERT ON ledger_postings
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_entry_balanced()
        """
    )
    op.execute(
        """
        CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'ledger postings and entries are append-only';
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER ledger_postings_append_only BEFORE UPDATE OR DELETE ON ledger_postings
            FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()
        """
    )
    op.execute(
        """
        CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
            FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()
        """
    )
    # --- trading: the engine's integer account number per user, orders, the command log per symbol,
    # the runner's cursor, trades, kill switches, risk limits and idempotency keys.
    op.execute(
        """
        CREATE TABLE trading_accounts (
            id bigserial PRIMARY KEY,
            user_id uuid NOT NULL REFERENCES users (id),
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT trading_accounts_user_id_key UNIQUE (user_id)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE engine_cursor (
            symbol text PRIMARY KEY REFERENCES instruments (symbol),
            processed_seq bigint NOT NULL DEFAULT 0,
            book_seq bigint NOT NULL DEFAULT 0,
            next_trade_id bigint NOT NULL DEFAULT 1,
            halted boolean NOT NULL DEFAULT false,
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        """
        INSERT INTO engine_cursor (symbol) SELECT symbol FROM instruments
        """
    )
    op.execute(
        """
        CREATE TABLE orders (
            id bigserial PRIMARY KEY,
            user_id uuid NOT NULL REFERENCES users (id),
            account_no bigint NOT NULL REFERENCES trading_accounts (id),
            symbol text NOT NULL REFERENCES instruments (symbol),
            seq bigint,
            side text NOT NULL,
            type text NOT NULL,
            time_in_force text NOT NULL,
            post_only boolean NOT NULL DEFAULT false,
            stp text NOT NULL,
            price numeric,
            quantity numeric,
            quote_budget numeric,
            price_ticks bigint,
            qty_lots bigint,
            budget_units bigint,
            hold_asset text NOT NULL REFERENCES assets (code),
            hold_amount numeric NOT NULL,
            status text NOT NULL DEFAULT 'new',
            filled_lots bigint NOT NULL DEFAULT 0,
            filled_units bigint NOT NULL DEFAULT 0,
            filled_quantity numeric NOT NULL DEFAULT 0,
            filled_quote numeric NOT NULL DEFAULT 0,
            cancel_reason text,
            reject_reason text,
            client_order_id text,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT orders_side_check CHECK (side IN ('buy', 'sell')),
            CONSTRAINT orders_type_check CHECK (type IN ('limit', 'market')),
            CONSTRAINT orders_time_in_force_check CHECK (time_in_force IN ('GTC', 'IOC', 'FOK')),
            CONSTRAINT orders_status_check CHECK (
                status IN ('new', 'open', 'partially_filled', 'filled', 'canceled', 'rejected')
            ),
            CONSTRAINT orders_hold_amount_check CHECK (hold_amount > 0),
            CONSTRAINT orders_symbol_seq_key UNIQUE (symbol, seq)
        )
        """
    )
    op.execute(
        """
        CREATE UNIQUE INDEX orders_user_client_order_id_key ON orders (user_id, client_order_id)
            WHERE client_order_id IS NOT NULL
        """
    )
    op.execute(
        """
        CREATE INDEX orders_user_id_id_idx ON orders (user_id, id DESC)
        """
    )
    op.execute(
        """
        CREATE INDEX orders_open_idx ON orders (symbol, seq) WHERE status IN ('new', 'open', 'partially_filled')
        """
    )
    op.execute(
        """
        CREATE TABLE engine_commands (
            id bigserial PRIMARY KEY,
            symbol text NOT NULL REFERENCES instruments (symbol),
            seq bigint,
            kind text NOT NULL,
            order_id bigint REFERENCES orders (id),
            payload jsonb NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT engine_commands_symbol_seq_key UNIQUE (symbol, seq),
            CONSTRAINT engine_commands_kind_check CHECK (kind IN ('new', 'cancel', 'cancel_all', 'halt'))
        )
        """
    )
    # The runner's queue: commands not yet numbered, in arrival order.
    op.execute(
        """
        CREATE INDEX engine_commands_pending_idx ON engine_commands (symbol, id) WHERE seq IS NULL
        """
    )
    op.execute(
        """
        CREATE TABLE trades (
            symbol text NOT NULL REFERENCES instruments (symbol),
            trade_id bigint NOT NULL,
            seq bigint NOT NULL,
            price numeric NOT NULL,
            quantity numeric NOT NULL,
            quote_amount numeric NOT NULL,
            taker_side text NOT NULL,
            maker_order_id bigint NOT NULL REFERENCES orders (id),
            taker_order_id bigint NOT NULL REFERENCES orders (id),
            maker_user_id uuid NOT NULL REFERENCES users (id),
            taker_user_id uuid NOT NULL REFERENCES users (id),
            maker_fee numeric NOT NULL,
            maker_fee_asset text NOT NULL REFERENCES assets (code),
            taker_fee numeric NOT NULL,
            taker_fee_asset text NOT NULL REFERENCES assets (code),
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT trades_pkey PRIMARY KEY (symbol, trade_id)
        )
        """
    )
    op.execute(
        """
        CREATE INDEX trades_maker_user_idx ON trades (maker_user_id, created_at DESC)
        """
    )
    op.execute(
        """
        CREATE INDEX trades_taker_user_idx ON trades (taker_user_id, created_at DESC)
        """
    )
    op.execute(
        """
        CREATE TABLE trading_halts (
            scope text PRIMARY KEY,
            halted boolean NOT NULL,
            reason text,
            updated_by uuid REFERENCES users (id),
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        """
        CREATE TABLE risk_limits (
            quote_asset text PRIMARY KEY REFERENCES assets (code),
            max_order_notional numeric NOT NULL,
            CONSTRAINT risk_limits_max_order_notional_check CHECK (max_order_notional > 0)
        )
        """
    )
    op.execute(
        """
        INSERT INTO risk_limits (quote_asset, max_order_notional)
        SELECT code, CASE WHEN code = 'BTC' THEN 50 ELSE 5000000 END FROM assets
         WHERE code IN (SELECT quote_asset FROM instruments)
        """
    )
    op.execute(
        """
        CREATE TABLE idempotency_keys (
            user_id uuid NOT NULL REFERENCES users (id),
            key text NOT NULL,
            request_hash text NOT NULL,
            order_id bigint REFERENCES orders (id),
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT idempotency_keys_pkey PRIMARY KEY (user_id, key)
        )
        """
    )


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        """
        DROP TABLE idempotency_keys, risk_limits, trading_halts, trades, engine_commands, orders,
            engine_cursor, trading_accounts
        """
    )
    op.execute(
        """
        DROP TABLE ledger_postings, ledger_entries, ledger_accounts
        """
    )
    op.execute(
        """
        DROP FUNCTION ledger_apply_posting(), ledger_check_entry_balanced(), ledger_refuse_change()
        """
    )
