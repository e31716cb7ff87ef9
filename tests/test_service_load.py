"""The subscription service under concurrent clients: the smoke version of
bench/service_bench.py (which measures; this only proves). A few hundred requests from
16 threads at a real `statusgen subscriptions serve` process (SQLite store, a real SMTP
sink), no timing thresholds: no 5xx, every submitted address stored exactly once and
mailed exactly once, confirmations kept, and both rate limits exact under concurrency."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

from statusgen.subscriptions.app import ADDRESS_LIMIT, CLIENT_LIMIT
from statusgen.tokens import make_token
from tests.conftest import MakeSite
from tests.smtpsink import SmtpSink
from tests.test_service_hardening import FORM, environment
from tests.test_service_instances import Instance
from tests.test_subscriptions import SECRET, SITE_YAML, SUBSCRIBERS, Reply

CLIENTS = 16
READERS = 80


def client(number: int) -> dict[str, str]:
    """A distinct client address for the per-client limit (the service trusts one proxy)."""
    return {"X-Forwarded-For": f"10.1.{number // 250}.{number % 250 + 1}"}


def at_once(calls: list[Callable[[], Reply]]) -> list[Reply]:
    with ThreadPoolExecutor(CLIENTS) as pool:
        return list(pool.map(lambda call: call(), calls))


def test_concurrent_clients_lose_nothing_duplicate_nothing_and_the_limits_hold(
        make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site({"content/site.yaml": SITE_YAML, "subscribers.yaml": SUBSCRIBERS})
    with SmtpSink() as sink:
        service = Instance(root, environment(sink, STATUSGEN_TRUSTED_PROXIES="1"), tmp_path / "service.log")
        try:
            def subscribe(email: str, number: int) -> Callable[[], Reply]:
                body = urlencode({"email": email, "language": "en", "website": ""})
                return lambda: service.request("POST", "/subscriptions/subscribe", body, {**FORM, **client(number)})

            readers = [f"reader{n}@partner{n % 7}.example" for n in range(READERS)]
            # every reader once, and again in capitals from another client at the same time
            calls = [subscribe(email, n) for n, email in enumerate(readers)]
            calls += [subscribe(email.upper(), READERS + n) for n, email in enumerate(readers[:20])]
            # one address from 8 clients: the form says "check your email" to each, 3 are mailed
            calls += [subscribe("busy@partner.example", 200 + n) for n in range(8)]
            # one client, 3 times its allowance at once
            calls += [subscribe(f"greedy{n}@partner.example", 999) for n in range(3 * CLIENT_LIMIT[0])]
            first = at_once(calls)

            def confirm(email: str) -> Callable[[], Reply]:
                body = urlencode({"token": make_token(SECRET, "confirm", email)})
                return lambda: service.request("POST", "/subscriptions/confirm", body, FORM)

            def page(path: str, purpose: str, email: str) -> Callable[[], Reply]:
                url = f"/subscriptions/{path}?{urlencode({'token': make_token(SECRET, purpose, email)})}"
                return lambda: service.request("GET", url)

            confirmed = readers[::2]
            second = at_once([confirm(email) for email in confirmed]
                             + [page("confirm", "confirm", email) for email in readers[1::2]]
                             + [page("manage", "manage", email) for email in readers[:40]])
        finally:
            service.stop()  # SIGTERM: exits 0 once every email is handed over
        log = service.errors()

    statuses = Counter(reply.status for reply in first + second)
    assert not [code for code in statuses if code >= 500], (statuses, log)
    assert "Traceback" not in log
    greedy = Counter(reply.status for reply in first[-3 * CLIENT_LIMIT[0]:])
    assert greedy == {200: CLIENT_LIMIT[0], 429: 2 * CLIENT_LIMIT[0]}
    assert all(reply.status == 200 for reply in first[:-3 * CLIENT_LIMIT[0]] + second)
    assert all(reply.header("Retry-After") for reply in first if reply.status == 429)

    with sqlite3.connect(root / ".statusgen" / "subscriptions.db") as db:
        rows = db.execute("SELECT address, state FROM subscriptions").fetchall()
    addresses = [address for address, _ in rows]
    greedy_stored = {a for a in addresses if a.startswith("greedy")}
    assert len(addresses) == len(set(addresses))
    assert set(addresses) - greedy_stored == {*readers, "busy@partner.example"}
    assert len(greedy_stored) == CLIENT_LIMIT[0]
    assert {address for address, state in rows if state == "confirmed"} == set(confirmed)

    mailed = Counter(recipient.lower() for recipient, _ in sink.messages)
    assert mailed["busy@partner.example"] == ADDRESS_LIMIT[0]
    capitals = Counter(mailed[email] for email in readers[:20])
    assert capitals == {2: 20}  # each form sent twice: two emails, under the limit of 3
    assert all(mailed[email] == 1 for email in readers[20:])
    assert all(mailed[email] == 1 for email in greedy_stored)
