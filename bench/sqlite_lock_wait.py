"""How long a SQLite writer waits for another connection's write lock: SQLite's busy handler against db.while_locked.

Usage: python bench/sqlite_lock_wait.py [--tries 20]

Another process takes the write lock of a scratch WAL database and keeps it for 2, 4, 9 or 20 ms (9 ms is about
how long the Celery worker holds it to store a batch of decisions), then commits, which syncs the log to disk
and takes a millisecond or two more; meanwhile this one inserts one row, first
through an engine with SQLite's own busy timeout (the engines' 30 s, config.engine_options), then through one
with none and db.while_locked around the insert, as intake's engine does. SQLite's busy handler sleeps 1, 2, 5,
10, 15, 20, 25 ms between its tries, so its writer goes on only at one of those steps. It prints the median and
worst wait of each, and the ratio of the medians.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from moderation.db import while_locked  # noqa: E402 (the checkout's own package, without installing it)

HOLDS_MS = (2, 4, 9, 20)


# The other process: for each line read (milliseconds), take the write lock, say so, keep it that long, commit.
HOLDER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
for line in sys.stdin:
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("INSERT INTO probe VALUES (1)")
    print("locked", flush=True)
    time.sleep(float(line) / 1000)
    connection.execute("COMMIT")
    print("free", flush=True)
"""


def waits(engine, holder, hold_ms, tries, retry):
    """Milliseconds the engine's insert waited, each time the holder kept the lock for hold_ms."""
    found = []
    with engine.connect() as connection:
        insert = lambda: connection.execute(text("INSERT INTO probe VALUES (2)"))  # noqa: E731
        for _ in range(tries):
            holder.stdin.write(f"{hold_ms}\n")
            holder.stdin.flush()
            assert holder.stdout.readline() == "locked\n"
            started = time.perf_counter()
            while_locked(insert) if retry else insert()
            found.append((time.perf_counter() - started) * 1000)
            assert holder.stdout.readline() == "free\n"
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "locks.db"
        url = f"sqlite:///{path}"
        busy_handler = create_engine(url, connect_args={"timeout": 30}, isolation_level="AUTOCOMMIT")
        ours = create_engine(url, connect_args={"timeout": 0}, isolation_level="AUTOCOMMIT")
        with busy_handler.connect() as connection:
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")
            connection.exec_driver_sql("CREATE TABLE probe (x)")
        print(f"a writer waiting for another's SQLite write lock, {args.tries} tries each (ms)")
        print(
            f"{'held, then commit':>10}  {'busy handler p50/max':>21}  {'while_locked p50/max':>21}  {'ratio p50':>9}"
        )
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        with holder:
            for hold in HOLDS_MS:
                theirs = waits(busy_handler, holder, hold, args.tries, retry=False)
                mine = waits(ours, holder, hold, args.tries, retry=True)
                a, b = statistics.median(theirs), statistics.median(mine)
                print(f"{hold:>17}  {a:>12.1f} / {max(theirs):>6.1f}  {b:>12.1f} / {max(mine):>6.1f}  {a / b:>8.2f}x")
            holder.stdin.close()
        for engine in (busy_handler, ours):
            engine.dispose()


if __name__ == "__main__":
    main()
