"""Subscription service load benchmark: Debian's `wrk` against a real
`statusgen subscriptions serve` process on 127.0.0.1 (SQLite store, and PostgreSQL on a
throwaway server of the tests' own), confirmation emails to a real SMTP sink.

    python bench/service_bench.py [--seconds 5] [--connections 32] [--backend sqlite|postgresql|both]

Why wrk: one small C program (apt-get install wrk) that keeps every connection busy with
almost no CPU of its own, reports latency percentiles corrected for coordinated
omission's worst, and takes a Lua script for POST bodies, so the 2 cores go to the service,
not to the load generator (a Python tool such as locust would need one of them). It
installs nothing itself: without wrk it says so and exits 2.

Phases, each `--seconds` long (the last two bounded by their limits), every request to 127.0.0.1:
  subscribe     POST the form, a new address per request, each from its own client
                address (X-Forwarded-For; the service trusts one proxy, as behind nginx)
  confirm page  GET confirm?token= with real tokens of stored addresses
  confirm       POST confirm with those tokens: pending → confirmed
  manage page   GET manage?token= of confirmed addresses
  one client    POST from one client address: its limit (10 per 10 minutes) answers 429
  one address   POST one address from many clients: its limit (3 emails an hour)
Then it checks: no 5xx anywhere; every address answered 200 is stored once, nothing
stored that was not sent; every confirmed token's address is confirmed; exactly 10 of the
one client's POSTs accepted; exactly 3 emails to the one address. Ends with `RESULT {json}`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from statusgen.subscriptions.app import ADDRESS_LIMIT, CLIENT_LIMIT  # noqa: E402
from statusgen.tokens import make_token  # noqa: E402
from tests.conftest import COMPONENTS_YAML  # noqa: E402
from tests.pgserver import free_port, running_server  # noqa: E402
from tests.smtpsink import SmtpSink  # noqa: E402
from tests.test_subscriptions import SECRET, SITE_YAML  # noqa: E402

ORIGIN = "https://status.example.org"
BASE = "/subscriptions/"
TOKENS = 2000
"""Tokens handed to the GET and confirm phases (cycled through)."""

LUA = r"""
-- set by the bench: mode, paths, the address prefix
-- globals, so that done() can read them from each thread (thread:get)
counter, sent, codes = 0, 0, {}
me = 0
local threads = {}

function setup(thread)
  thread:set("me", #threads)
  table.insert(threads, thread)
end

function init(args)
  me = tonumber(wrk.thread:get("me")) or 0
end

function request()
  counter = counter + 1
  sent = sent + 1
  local n = me * 1000000 + counter
  if MODE == "subscribe" or MODE == "one-address" or MODE == "one-client" then
    local email = MODE == "one-address" and "busy@bench.example" or (PREFIX .. n .. "@bench.example")
    local headers = {["Content-Type"] = "application/x-www-form-urlencoded", ["Origin"] = ORIGIN}
    if MODE ~= "one-client" then
      headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", me % 250, math.floor(counter / 250) % 250,
                                                 counter % 250 + 1)
    end
    return wrk.format("POST", BASE .. "subscribe", headers,
                      "email=" .. email .. "&language=en&website=")
  end
  local path = PATHS[(me * 7919 + counter) % #PATHS + 1]
  if MODE == "confirm" then
    return wrk.format("POST", BASE .. "confirm", {["Content-Type"] = "application/x-www-form-urlencoded",
                      ["Origin"] = ORIGIN}, "token=" .. path)
  end
  return wrk.format("GET", path)
end

function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end

function done(summary, latency, requests)
  local total, all = 0, {}
  for _, thread in ipairs(threads) do
    total = total + (thread:get("sent") or 0)
    local c = thread:get("codes") or {}
    for status, count in pairs(c) do all[tostring(status)] = (all[tostring(status)] or 0) + count end
  end
  local parts = {}
  for status, count in pairs(all) do table.insert(parts, string.format('"%s": %d', status, count)) end
  io.write(string.format('WRK {"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p99_ms": %.2f, ' ..
                         '"max_ms": %.2f, "sent": %d, "socket_errors": %d, "codes": {%s}}\n',
                         summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
                         latency:percentile(99) / 1000, latency.max / 1000, total,
                         summary.errors.connect + summary.errors.read + summary.errors.write +
                         summary.errors.timeout, table.concat(parts, ", ")))
end
"""


def lua(mode: str, prefix: str, paths: list[str]) -> str:
    quoted = ", ".join(json.dumps(p) for p in paths) if paths else '""'
    return (f'MODE = "{mode}"\nPREFIX = "{prefix}"\nORIGIN = "{ORIGIN}"\nBASE = "{BASE}"\n'
            f"PATHS = {{{quoted}}}\n" + LUA)


def run_wrk(port: int, mode: str, seconds: float, connections: int, work: Path, prefix: str = "",
            paths: list[str] | None = None) -> dict[str, Any]:
    script = work / f"{mode}.lua"
    script.write_text(lua(mode, prefix, paths or []))
    threads = min(2, connections)
    done = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{int(seconds)}s", "--timeout", "30s",
                           "-s", str(script), "--latency", f"http://127.0.0.1:{port}/"],
                          capture_output=True, text=True, timeout=seconds + 120, check=False)
    line = next((line for line in done.stdout.splitlines() if line.startswith("WRK ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    result: dict[str, Any] = json.loads(line[4:])
    result["rps"] = round(result["requests"] / result["seconds"], 1)
    return result


def site(folder: Path) -> Path:
    root = folder / "site"
    (root / "content").mkdir(parents=True)
    (root / "incidents").mkdir()
    (root / "content" / "site.yaml").write_text(SITE_YAML)
    (root / "components.yaml").write_text(COMPONENTS_YAML)
    return root


def wait_healthy(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the service exited {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{BASE}healthz", timeout=5) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("the service did not start")


def rows(backend: str, root: Path, url: str | None) -> list[tuple[str, str]]:
    if url:
        import psycopg

        with psycopg.connect(url) as db:
            return [tuple(row) for row in db.execute("SELECT address, state FROM subscriptions")]  # type: ignore[misc]
    with sqlite3.connect(root / ".statusgen" / "subscriptions.db") as db:
        return db.execute("SELECT address, state FROM subscriptions").fetchall()


def bench(backend: str, url: str | None, seconds: float, connections: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="statusgen-service-bench-") as temp, SmtpSink() as sink:
        work = Path(temp)
        root = site(work)
        port = free_port()
        env = {**os.environ, "STATUSGEN_SECRET_KEY": SECRET, "STATUSGEN_TRUSTED_PROXIES": "1",
               "STATUSGEN_SMTP_HOST": "127.0.0.1", "STATUSGEN_SMTP_PORT": str(sink.port),
               "STATUSGEN_SMTP_SECURITY": "none"}
        for name in ("STATUSGEN_DATABASE_URL", "STATUSGEN_SUBSCRIPTIONS_DB"):
            env.pop(name, None)
        command = [sys.executable, "-m", "statusgen", "subscriptions", "serve", "--site", str(root), "--port",
                   str(port)] + (["--db", url] if url else [])
        with (work / "service.log").open("w") as log:
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
        phases: dict[str, dict[str, Any]] = {}
        try:
            wait_healthy(port, process)
            phases["subscribe"] = run_wrk(port, "subscribe", seconds, connections, work, prefix="load")
            stored = [address for address, _ in rows(backend, root, url) if address.startswith("load")]
            chosen = sorted(stored)[:TOKENS]
            confirm = [make_token(SECRET, "confirm", a) for a in chosen]
            phases["confirm page"] = run_wrk(port, "page", seconds, connections, work,
                                             paths=[f"{BASE}confirm?{urlencode({'token': t})}" for t in confirm])
            phases["confirm"] = run_wrk(port, "confirm", seconds, connections, work, paths=confirm)
            phases["manage page"] = run_wrk(port, "page", seconds, connections, work, paths=[
                f"{BASE}manage?{urlencode({'token': make_token(SECRET, 'manage', a)})}" for a in chosen])
            phases["one client"] = run_wrk(port, "one-client", min(seconds, 3), min(connections, 16), work,
                                           prefix="greedy")
            phases["one address"] = run_wrk(port, "one-address", min(seconds, 3), min(connections, 16), work)
        finally:
            process.send_signal(signal.SIGTERM)
            code = process.wait(120)
        log_text = (work / "service.log").read_text()
        stored_rows = rows(backend, root, url)
        mailed = Counter(recipient for recipient, _ in sink.messages)

    problems = []
    if code != 0:
        problems.append(f"the service exited {code} after SIGTERM")
    for name, phase in phases.items():
        server_errors = {c: n for c, n in phase["codes"].items() if int(c) >= 500}
        if server_errors or phase["socket_errors"]:
            problems.append(f"{name}: {server_errors} 5xx, {phase['socket_errors']} socket errors")
    if "Traceback" in log_text:
        problems.append("a traceback in the service's log")
    load = Counter(address for address, _ in stored_rows if address.startswith("load"))
    accepted = phases["subscribe"]["codes"].get("200", 0)
    if any(count > 1 for count in load.values()):
        problems.append("an address stored twice")
    if not accepted <= len(load) <= phases["subscribe"]["sent"]:
        problems.append(f"subscribe: {accepted} accepted, {len(load)} stored, {phases['subscribe']['sent']} sent")
    confirmed = {address for address, state in stored_rows if state == "confirmed"}
    if phases["confirm"]["requests"] >= len(chosen) and not set(chosen) <= confirmed:
        problems.append(f"confirm: {len(set(chosen) - confirmed)} confirmed addresses not confirmed in the store")
    if confirmed - set(chosen):
        problems.append("confirmed addresses that no confirm was sent for")
    greedy_ok = phases["one client"]["codes"].get("200", 0)
    greedy_stored = sum(1 for address, _ in stored_rows if address.startswith("greedy"))
    if greedy_ok > CLIENT_LIMIT[0] or greedy_stored != CLIENT_LIMIT[0]:
        problems.append(f"one client: {greedy_ok} accepted, {greedy_stored} stored; its limit is {CLIENT_LIMIT[0]}")
    if mailed["busy@bench.example"] != ADDRESS_LIMIT[0]:
        problems.append(f"one address: {mailed['busy@bench.example']} emails; its limit is {ADDRESS_LIMIT[0]}")
    return {"backend": backend, "connections": connections, "phases": phases, "stored": len(load),
            "confirmed": len(confirmed), "tokens": len(chosen), "emails": sum(mailed.values()), "problems": problems}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of each phase (default 5)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections (default 32)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("service_bench: wrk is missing: install Debian's package (apt-get install wrk); this bench "
              "installs nothing itself", file=sys.stderr)
        return 2
    results = []
    if args.backend in ("sqlite", "both"):
        results.append(bench("sqlite", None, args.seconds, args.connections))
    if args.backend in ("postgresql", "both"):
        from tests.backends import upgraded

        with running_server() as server:
            url = upgraded(server.create_database("service_bench"))
            results.append(bench("postgresql", url, args.seconds, args.connections))
    for result in results:
        print(f"{result['backend']}, {result['connections']} connections:")
        for name, phase in result["phases"].items():
            codes = ", ".join(f"{n}×{c}" for c, n in sorted(phase["codes"].items()))
            print(f"  {name:13} {phase['rps']:8.1f} req/s  p50 {phase['p50_ms']:7.2f} ms  "
                  f"p99 {phase['p99_ms']:7.2f} ms  ({codes})")
        print(f"  stored {result['stored']}, {result['tokens']} tokens, confirmed {result['confirmed']}, emails {result['emails']}; "
              + ("; ".join(result["problems"]) or "no problems"))
    print("RESULT " + json.dumps({"service": results}, sort_keys=True))
    return 1 if any(result["problems"] for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
