"""Subscription store benchmark: SQLite and PostgreSQL (a throwaway server of the tests' own).

    python bench/subscriptions_bench.py [--subscribers 100000] [--posts 2000]

Measures, on each backend:
- subscribe POSTs per second as the service's 8 threads make them (the store's share of one
  POST: `request`, the client's and the address's rate-limit `hit`), with one instance and,
  on PostgreSQL, with two instances (two stores, two pools) writing at once;
- what `statusgen notify` adds to read its audience: subscribers.yaml's worth of addresses
  plus the store's confirmed subscribers minus its suppressions (`merge.audience`);
- `copy_sqlite` of the whole SQLite store into PostgreSQL (`statusgen db copy`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from statusgen.content.model import Subscriber  # noqa: E402
from statusgen.database import connect, upgrade  # noqa: E402
from statusgen.subscriptions import pgstore  # noqa: E402
from statusgen.subscriptions.backend import StoreLocation, open_store  # noqa: E402
from statusgen.subscriptions.merge import combine  # noqa: E402
from statusgen.subscriptions.store import SubscriptionStore  # noqa: E402
from tests.pgserver import running_server  # noqa: E402

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
THREADS = 8


def posts(stores: list[SubscriptionStore], count: int, prefix: str) -> float:
    """`count` subscribe POSTs' store work spread over 8 threads per store; POSTs per second."""
    per_thread = count // (THREADS * len(stores))
    start = threading.Barrier(THREADS * len(stores) + 1)

    def work(store: SubscriptionStore, thread: int) -> None:
        start.wait()
        for n in range(per_thread):
            address = f"{prefix}{thread}-{n}@example.org"
            store.request(address, ("eu-dcc",), "en", NOW)
            store.hit(f"client:192.0.2.{thread}", 10**9, timedelta(minutes=10), NOW)
            store.hit(f"email:{address}", 3, timedelta(hours=1), NOW)

    threads = [threading.Thread(target=work, args=(store, t * len(stores) + i))
               for i, store in enumerate(stores) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return per_thread * len(threads) / (time.perf_counter() - began)


def fill(store: SubscriptionStore, subscribers: int) -> None:
    """`subscribers` confirmed self-service subscribers, and one in ten of them unsubscribed."""
    for n in range(subscribers):
        store.save(f"own{n:06d}@example.org", None, "en", NOW)
    for n in range(0, subscribers, 10):
        store.unsubscribe(f"own{n:06d}@example.org", NOW)


def timed(what: Callable[[], object]) -> float:
    began = time.perf_counter()
    what()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--posts", type=int, default=2000)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from synthetic import make_site  # noqa: PLC0415 - the bench's own helper
    from statusgen.content.load import load_site

    folder = Path(tempfile.mkdtemp(prefix="statusgen-subscriptions-bench-"))
    site, _ = load_site(make_site(folder / "site", incidents=1))
    listed = tuple(Subscriber(f"yaml{n:06d}@example.org", None, "en") for n in range(args.subscribers))
    with running_server() as server:
        url = server.create_database("bench")
        with connect(url) as db:
            upgrade(db, pgstore.STORE, pgstore.MIGRATIONS)
        locations = {"sqlite": StoreLocation(path=folder / "subscriptions.db"), "postgresql": StoreLocation(url=url)}
        for name, location in locations.items():
            one = open_store(location, connections=THREADS)
            print(f"{name}: {posts([one], args.posts, 'one'):,.0f} subscribe POSTs/s, one instance, 8 threads")
            if location.url:
                other = open_store(location, connections=THREADS)
                rate = posts([one, other], args.posts, "two")
                print(f"{name}: {rate:,.0f} subscribe POSTs/s, two instances, 8 threads each")
                other.close()
            filled = timed(lambda: fill(one, args.subscribers // 10))  # noqa: B023 - called at once
            one.close()
            reader = open_store(location, readonly=True)
            chosen: list[tuple[Subscriber, ...]] = []
            took = timed(lambda: chosen.append(combine(site, listed, reader)))  # noqa: B023
            reader.close()
            print(f"{name}: the audience of {args.subscribers:,} yaml + {args.subscribers // 10:,} self-service "
                  f"subscribers ({len(chosen[0]):,} after suppressions) read in {took:.2f} s "
                  f"(filling the store took {filled:.1f} s)")
        with connect(server.create_database("copy")) as db:
            upgrade(db, pgstore.STORE, pgstore.MIGRATIONS)
            copied: list[dict[str, int]] = []
            took = timed(lambda: copied.append(pgstore.copy_sqlite(folder / "subscriptions.db", db)))
            db.commit()
        print(f"copy_sqlite: {copied[0]} in {took:.2f} s")


if __name__ == "__main__":
    main()
