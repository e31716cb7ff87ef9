"""Webhook payload benchmark: the bodies for one P1 of the example site, per subscriber.

    python bench/payloads_bench.py [--subscribers 1000]

For every format, makes the bodies `subscribers` times (half in Dutch, half in English,
each with its own manage link), once with `payloads` alone and once through a run's
`PayloadRenderer` (chat messages made once per language). Prints subscribers per second:
what composing costs before any HTTP request; no network.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from statusgen.notifier.events import diff  # noqa: E402
from statusgen.notifier.webhooks.payloads import FORMATS, Links, PayloadRenderer, payloads  # noqa: E402
from statusgen.site.build import build  # noqa: E402
from statusgen.site.theme import Theme  # noqa: E402

NOW = "2026-11-30T12:00:00+01:00"
P1 = "2026-11-03-pdf-certificates-unavailable"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    count = parser.parse_args().subscribers
    with tempfile.TemporaryDirectory() as folder:
        result = build(ROOT, Path(folder) / "public", NOW)
    snapshot = json.loads(result.outputs.snapshot)
    events, _ = diff(snapshot, set(), result.state.now)
    event = next(e for e in events if e.incident == P1)
    context = {**{k: v for k, v in snapshot.items() if k != "incidents"}, "incidents": {P1: snapshot["incidents"][P1]}}
    theme = Theme(ROOT)
    renderer = PayloadRenderer(theme)
    for fmt in FORMATS:
        for name, make in (("payloads", lambda f, e, c, lang, links, now: payloads(f, e, c, lang, theme, links, now)),
                           ("renderer", renderer)):
            started = time.perf_counter()
            for index in range(count):
                lang = ("nl", "en")[index % 2]
                links = Links(snapshot["incidents"][P1]["url"][lang], f"https://status.example.org/m/{index:040d}")
                make(fmt, event, context, lang, links, result.state.now)
            seconds = time.perf_counter() - started
            print(f"{fmt:11} {name:9} {count} subscribers in {seconds:.3f} s: {count / seconds:,.0f}/s")


if __name__ == "__main__":
    main()
