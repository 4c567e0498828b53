"""Tick ingest: COPY (staging table + idempotent merge, as the tick writer and the importer write) against
row-by-row `executemany` of the same rows, side by side in one run, on a throwaway database.

Prints one JSON object; the targets are COPY >= 10x executemany and >= 200,000 rows/s through COPY.
"""

from __future__ import annotations

import asyncio
import json
import os
import time

import asyncpg
from bench_support import generated_ticks, scratch_database

from server_fastapi.markets import repository

ROWS = int(os.environ.get("BENCH_INGEST_ROWS", "200000"))
ROW_BY_ROW_ROWS = int(os.environ.get("BENCH_INGEST_ROW_BY_ROW_ROWS", "50000"))
ROUNDS = 2


CLIENT_CPU: dict[str, list[float]] = {}
"""This process's CPU time per row written, by path: what encoding the rows costs on the client side."""


async def timed(conn: asyncpg.Connection, write: object, rows: int, path: str) -> float:
    await conn.execute("TRUNCATE ticks")
    cpu = time.process_time()
    started = time.perf_counter()
    async with conn.transaction():
        await write  # type: ignore[misc]
    elapsed = time.perf_counter() - started
    CLIENT_CPU.setdefault(path, []).append((time.process_time() - cpu) / rows)
    return rows / elapsed


async def main() -> None:
    frame = generated_ticks(ROWS)
    records = [tuple(row) for row in frame.iter_rows()]
    subset = records[:ROW_BY_ROW_ROWS]
    results: dict[str, object] = {
        "benchmark": "ingest",
        "rows": ROWS,
        "row_by_row_rows": ROW_BY_ROW_ROWS,
        "rounds": ROUNDS,
        "loadavg_1m_before": os.getloadavg()[0],
    }
    async with scratch_database() as url:
        conn = await asyncpg.connect(url)
        try:
            copy, copy_frame, row_by_row, copy_subset = [], [], [], []
            for _ in range(ROUNDS):
                # The same rows each way; alternating so drift in machine load hits all alike.
                row_by_row.append(
                    await timed(
                        conn,
                        repository.insert_ticks_row_by_row(conn, subset),  # type: ignore[arg-type]
                        len(subset),
                        "executemany",
                    )
                )
                copy_subset.append(
                    await timed(conn, repository.copy_ticks(conn, subset), len(subset), "copy_records")  # type: ignore[arg-type]
                )
                copy.append(await timed(conn, repository.copy_ticks(conn, records), ROWS, "copy_records"))  # type: ignore[arg-type]
                copy_frame.append(
                    await timed(conn, repository.copy_ticks_frame(conn, frame), ROWS, "copy_polars_csv")  # type: ignore[arg-type]
                )
            stored = await conn.fetchval("SELECT count(*) FROM ticks")
            assert stored == ROWS, stored
            async with conn.transaction():  # written twice, stored once
                assert await repository.copy_ticks(conn, records) == 0  # type: ignore[arg-type]
        finally:
            await conn.close()
    best = {
        "copy_records_rows_per_s": round(max(copy)),
        "copy_polars_csv_rows_per_s": round(max(copy_frame)),
        "copy_records_same_rows_as_row_by_row_rows_per_s": round(max(copy_subset)),
        "executemany_rows_per_s": round(max(row_by_row)),
    }
    ratio = max(copy_subset) / max(row_by_row)
    results.update(best)
    results["client_cpu_us_per_row"] = {path: round(min(v) * 1e6, 2) for path, v in CLIENT_CPU.items()}
    results["loadavg_1m_after"] = os.getloadavg()[0]
    results["copy_over_executemany_ratio"] = round(ratio, 1)
    results["targets"] = {
        "ratio_at_least": 10,
        "min_copy_rows_per_s": 200_000,
        "met": ratio >= 10 and max(max(copy), max(copy_frame)) >= 200_000,
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
