"""Assets, instruments and the ticks hypertable.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import logging

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

logger = logging.getLogger("alembic.runtime.migration")

TICKS_CHUNK_INTERVAL = "1 day"
TICKS_SYMBOL_PARTITIONS = 4
TICKS_COMPRESS_AFTER = "7 days"
TICKS_RETAIN_FOR = "730 days"


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        """
        CREATE TABLE assets (
            code text NOT NULL,
            name text NOT NULL,
            decimals int NOT NULL,
            CONSTRAINT assets_pkey PRIMARY KEY (code),
            CONSTRAINT assets_code_format CHECK (code ~ '^[A-Z0-9]{2,12}$'),
            CONSTRAINT assets_decimals_range CHECK (decimals BETWEEN 0 AND 18)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE instruments (
            symbol text NOT NULL,
            base_asset text NOT NULL,
            quote_asset text NOT NULL,
            tick_size numeric NOT NULL,
            lot_size numeric NOT NULL,
            min_notional numeric NOT NULL,
            price_band_pct numeric NOT NULL,
            maker_fee_rate numeric NOT NULL,
            taker_fee_rate numeric NOT NULL,
            status text NOT NULL DEFAULT 'trading',
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT instruments_pkey PRIMARY KEY (symbol),
            CONSTRAINT instruments_base_asset_fkey FOREIGN KEY (base_asset) REFERENCES assets (code),
            CONSTRAINT instruments_quote_asset_fkey FOREIGN KEY (quote_asset) REFERENCES assets (code),
            CONSTRAINT instruments_symbol_is_pair CHECK (symbol = base_asset || '-' || quote_asset),
            CONSTRAINT instruments_distinct_assets CHECK (base_asset <> quote_asset),
            CONSTRAINT instruments_tick_size_positive CHECK (tick_size > 0 AND scale(tick_size) <= 8),
            CONSTRAINT instruments_lot_size_positive CHECK (lot_size > 0 AND scale(lot_size) <= 8),
            CONSTRAINT instruments_min_notional_non_negative CHECK (min_notional >= 0),
            CONSTRAINT instruments_price_band_range CHECK (price_band_pct > 0 AND price_band_pct <= 100),
            CONSTRAINT instruments_maker_fee_range CHECK (maker_fee_rate > -0.01 AND maker_fee_rate < 0.1),
            CONSTRAINT instruments_taker_fee_range CHECK (taker_fee_rate >= 0 AND taker_fee_rate < 0.1),
            CONSTRAINT instruments_status_valid CHECK (status IN ('trading', 'halted'))
        )
        """
    )
    op.execute(
        """
        INSERT INTO assets (code, name, decimals) VALUES
            ('BTC', 'Bitcoin', 8),
            ('ETH', 'Ether', 18),
            ('SOL', 'Solana', 9),
            ('USDT', 'Tether USD', 6)
        """
    )
    # Grids and fees in line with large spot venues; price bands in percent of the last price.
    op.execute(
        """
        INSERT INTO instruments (symbol, base_asset, quote_asset, tick_size, lot_size, min_notional,
                                 price_band_pct, maker_fee_rate, taker_fee_rate, status) VALUES
            ('BTC-USDT', 'BTC', 'USDT', 0.01, 0.00001, 5, 10, 0.0008, 0.001, 'trading'),
            ('ETH-USDT', 'ETH', 'USDT', 0.01, 0.0001, 5, 10, 0.0008, 0.001, 'trading'),
            ('SOL-USDT', 'SOL', 'USDT', 0.001, 0.01, 5, 15, 0.0008, 0.001, 'trading'),
            ('ETH-BTC', 'ETH', 'BTC', 0.00001, 0.0001, 0.0001, 10, 0.0008, 0.001, 'trading')
        """
    )
    # No foreign key to instruments: the writer's COPY path stays fast, and sources validate symbols.
    op.execute(
        """
        CREATE TABLE ticks (
            time timestamptz NOT NULL,
            symbol text NOT NULL,
            trade_id bigint NOT NULL,
            price numeric NOT NULL,
            quantity numeric NOT NULL,
            taker_side text NOT NULL,
            -- One index serves both idempotent writes and reads by symbol and time (scanned backwards
            -- for the newest trades), which keeps COPY merges fast.
            CONSTRAINT ticks_pkey PRIMARY KEY (symbol, time, trade_id),
            CONSTRAINT ticks_price_positive CHECK (price > 0),
            CONSTRAINT ticks_quantity_positive CHECK (quantity > 0),
            CONSTRAINT ticks_taker_side_valid CHECK (taker_side IN ('buy', 'sell'))
        )
        """
    )
    op.execute(
        f"""
        SELECT create_hypertable('ticks', by_range('time', INTERVAL '{TICKS_CHUNK_INTERVAL}'),
                                 create_default_indexes => false)
        """
    )
    op.execute(f"SELECT add_dimension('ticks', by_hash('symbol', {TICKS_SYMBOL_PARTITIONS}))")

    bind = op.get_bind()
    licence = bind.exec_driver_sql("SELECT current_setting('timescaledb.license', true)").scalar()
    if licence == "timescale":
        op.execute(
            """
            ALTER TABLE ticks SET (timescaledb.compress, timescaledb.compress_segmentby = 'symbol',
                                   timescaledb.compress_orderby = 'time DESC, trade_id DESC')
            """
        )
        op.execute(f"SELECT add_compression_policy('ticks', INTERVAL '{TICKS_COMPRESS_AFTER}')")
        op.execute(f"SELECT add_retention_policy('ticks', INTERVAL '{TICKS_RETAIN_FOR}')")
    else:
        logger.warning(
            "TimescaleDB licence is %r: ticks compression (after %s) and retention (%s) policies skipped; "
            "the schema works without them",
            licence,
            TICKS_COMPRESS_AFTER,
            TICKS_RETAIN_FOR,
        )


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("DROP TABLE IF EXISTS ticks")
    op.execute("DROP TABLE IF EXISTS instruments")
    op.execute("DROP TABLE IF EXISTS assets")
