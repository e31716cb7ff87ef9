"""The relay's limits: `notify.smtp.rate` and the connection count, honoured against a real
SMTP server on 127.0.0.1 that notes when each MAIL FROM and each end of DATA arrives and
how many sessions are open at once; the settings' errors; the progress line's rate and
finish time with injected clocks; the doctor's words for the rate.

The guarantee tests run for a few seconds on purpose: they measure a rate, not a speed."""

from __future__ import annotations

import io
import smtplib
import socket
import threading
import time
from bisect import bisect_right
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.smtp import SMTP

from statusgen.content.load import load_site
from statusgen.content.relay import SmtpSettings
from statusgen.doctor import diagnose
from statusgen.errors import ContentErrors
from statusgen.notifier.delivery import Progress, duration_text, per_second
from statusgen.notifier.preflight import pace_text
from statusgen.notifier.smtp import SmtpTransport
from statusgen.notifier.smtp.pace import CATCH_UP, GUARD, Pace, Stopped
from tests.conftest import MakeSite
from tests.smtpsink import LoopbackController, SmtpSink
from tests.test_transport import RecordingLedger, messages

WAIT = 10


# ── a sink that keeps time ─────────────────────────────────────────────────────────────

class CountingSMTP(SMTP):
    """aiosmtpd's server, telling the sink when a session opens and closes."""

    def connection_made(self, transport: Any) -> None:
        self.event_handler.session_changed(+1)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        super().connection_lost(error)
        self.event_handler.session_changed(-1)


class CountingController(LoopbackController):
    def factory(self) -> SMTP:
        return CountingSMTP(self.handler, **self.SMTP_kwargs)


class TimedSink(SmtpSink):
    """The SMTP sink, also noting the arrival time of every MAIL FROM and every end of DATA
    (refused ones too: a relay counts what it is asked to take) and the most sessions open
    at once. With `refuse_first`, each recipient's first DATA is answered 451."""

    def __init__(self, refuse_first: bool = False, pipelining: bool = False) -> None:
        super().__init__(on_data=self._refuse_first if refuse_first else None)
        self.pipelining = pipelining  # offer PIPELINING: the client writes MAIL, RCPT and DATA at once
        self.controller.loop.close()  # the plain controller's, never started: replaced by a counting one
        self.controller = CountingController(self)
        self.mail_times: list[float] = []
        self.data_times: list[float] = []
        self.open = self.most_open = 0
        self._refused: set[str] = set()
        self._sessions = threading.Condition()

    def __enter__(self) -> TimedSink:
        super().__enter__()
        with self._sessions:  # the controller's own readiness probe was a session: forget it
            assert self._sessions.wait_for(lambda: self.open == 0, WAIT)
            self.most_open = 0
        return self

    def session_changed(self, by: int) -> None:
        with self._sessions:
            self.open += by
            self.most_open = max(self.most_open, self.open)
            self._sessions.notify_all()

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        session.host_name = hostname
        return [responses[0], "250-PIPELINING", *responses[1:]] if self.pipelining else responses

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:
        self.mail_times.append(time.monotonic())
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_times.append(time.monotonic())
        return await super().handle_DATA(server, session, envelope)

    def _refuse_first(self, session: Any, envelope: Any) -> str | None:
        recipient = envelope.rcpt_tos[0]
        if recipient in self._refused:
            return None
        self._refused.add(recipient)
        return "451 4.7.1 try again later"


def most_in_one_second(times: list[float]) -> int:
    """The most arrivals in any closed window of one second (the strictest way to count)."""
    ordered = sorted(times)
    return max(bisect_right(ordered, start + 1.0) - index for index, start in enumerate(ordered))


class WireLog:
    """Wraps each connection's socket to note when a MAIL FROM is written: what the relay's
    network stack receives at that moment (on 127.0.0.1 there is no delay in between), whatever
    the sink's thread is doing. The sink's own clock readings come late when the machine is
    busy (by 100 ms and more on two shared cores): SINK_LAG allows for that in its windows."""

    def __init__(self) -> None:
        self.mail_times: list[float] = []
        self.pipelined = 0
        """MAIL FROM writes that carried RCPT TO and DATA too."""

    def wrap(self, smtp: smtplib.SMTP) -> smtplib.SMTP:
        smtp.sock = WrittenSocket(smtp.sock, self)
        return smtp


class WrittenSocket:
    def __init__(self, sock: socket.socket, log: WireLog) -> None:
        self._sock, self._log = sock, log

    def sendall(self, data: bytes) -> None:
        self._sock.sendall(data)
        if data[:10].lower() == b"mail from:":
            self._log.mail_times.append(time.monotonic())
            self._log.pipelined += data.endswith(b"\r\nDATA\r\n")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


SINK_LAG = 0.2


class LoggedTransport(SmtpTransport):
    def __init__(self, *args: Any, wire: WireLog, **options: Any) -> None:
        super().__init__(*args, **options)
        self.wire = wire

    def connect(self) -> smtplib.SMTP:
        return self.wire.wrap(super().connect())


def paced(port: int, rate: float | None, connections: int, wire: WireLog | None = None) -> SmtpTransport:
    return LoggedTransport(SmtpSettings(host="127.0.0.1", port=port, rate=rate), connections=connections,
                           timeout=5, local_hostname="client.test", sleep=lambda _: None,  # only the pace waits
                           wire=wire or WireLog())


def most_within(times: list[float], seconds: float) -> int:
    ordered = sorted(times)
    return max(bisect_right(ordered, start + seconds) - index for index, start in enumerate(ordered))


# ── the guarantee, against a real server ───────────────────────────────────────────────

@pytest.mark.parametrize("pipelining", [False, True], ids=["one by one", "pipelined"])
def test_twenty_a_second_over_four_connections_is_never_exceeded(pipelining: bool) -> None:
    wire = WireLog()
    with TimedSink(pipelining=pipelining) as sink:
        ledger = RecordingLedger()
        started = time.monotonic()
        paced(sink.port, 20, 4, wire).deliver(messages(100), ledger, Progress(io.StringIO()))
        took = time.monotonic() - started
    assert len(sink.messages) == 100 and set(ledger.outcomes().values()) == {"sent"}
    assert len(wire.mail_times) == 100 and most_in_one_second(wire.mail_times) <= 20
    assert wire.pipelined == (100 if pipelining else 0)
    assert most_within(sink.mail_times, 1 - SINK_LAG) <= 20
    assert most_within(sink.data_times, 1 - SINK_LAG) <= 20
    assert took >= (100 - 20) / 20
    assert sink.most_open == 4  # all four connections were used, never a fifth


@pytest.mark.parametrize("pipelining", [False, True], ids=["one by one", "pipelined"])
def test_a_retry_after_a_4xx_counts_against_the_rate(pipelining: bool) -> None:
    wire = WireLog()
    with TimedSink(refuse_first=True, pipelining=pipelining) as sink:
        ledger = RecordingLedger()
        paced(sink.port, 10, 4, wire).deliver(messages(10), ledger, Progress(io.StringIO()))
    assert len(sink.mail_times) == 20 and len(sink.messages) == 10  # each tried twice, taken once
    assert set(ledger.outcomes().values()) == {"sent"}
    assert len(wire.mail_times) == 20 and most_in_one_second(wire.mail_times) <= 10
    assert most_within(sink.data_times, 1 - SINK_LAG) <= 10
    assert max(wire.mail_times) - min(wire.mail_times) >= 19 / 10


@pytest.mark.parametrize("connections", [1, 3])
def test_the_connection_count_is_never_exceeded(connections: int) -> None:
    with TimedSink() as sink:
        paced(sink.port, None, connections).deliver(messages(30), RecordingLedger(), Progress(io.StringIO()))
    assert len(sink.messages) == 30
    assert sink.most_open == connections


def test_without_a_rate_nothing_waits() -> None:
    pace = Pace(None, clock=lambda: 0.0, sleep=lambda _: pytest.fail("slept"))
    for _ in range(1000):
        with pace.slot():
            pass
    assert pace.seconds_for(10_000) == 0


# ── the pace, with an injected clock ───────────────────────────────────────────────────

class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def take(pace: Pace, fake: FakeTime, writing: float = 0.0) -> float:
    """One slot: when it began; the write of MAIL FROM takes `writing` seconds."""
    with pace.slot():
        began = fake.now
        fake.now += writing
    return began


def test_slots_are_evenly_spaced_from_each_write() -> None:
    fake = FakeTime()
    pace = Pace(4, clock=fake.clock, sleep=fake.sleep)
    gap = (1 + GUARD) / 4
    assert [take(pace, fake) for _ in range(5)] == pytest.approx([100 + n * gap for n in range(5)])
    assert max(fake.slept) <= 0.2  # in short steps, so that a stopped run is noticed
    fake.now += 10  # a worker that comes late does not make up for lost time with a burst
    late = take(pace, fake)
    assert take(pace, fake) - late == pytest.approx(gap)
    slow = take(pace, fake, writing=CATCH_UP / 2)  # a little late (a busy machine): the schedule holds
    assert take(pace, fake) - slow == pytest.approx(gap)
    paused = take(pace, fake, writing=0.4)  # paused while it held its slot: the next one counts from its write
    assert take(pace, fake) - paused == pytest.approx(0.4 + gap - CATCH_UP)


def test_a_stopped_run_leaves_the_wait_without_sending() -> None:
    fake = FakeTime()
    pace = Pace(0.5, clock=fake.clock, sleep=fake.sleep)
    take(pace, fake)
    with pytest.raises(Stopped):
        with pace.slot(stopped=lambda: bool(fake.slept)):
            pytest.fail("a stopped run got a slot")
    assert sum(fake.slept) <= 0.2


def test_a_rate_must_be_above_zero() -> None:
    with pytest.raises(ValueError, match="expected a rate above 0"):
        Pace(0)


# ── the settings ───────────────────────────────────────────────────────────────────────

HOST = {"STATUSGEN_SMTP_HOST": "relay.internal"}


@pytest.mark.parametrize("env, site, rate", [
    ({}, {}, None),
    ({}, {"rate": 14}, 14.0),
    ({}, {"rate": 0.5}, 0.5),
    ({"STATUSGEN_SMTP_RATE": "2.5"}, {"rate": 14}, 2.5),  # the environment wins
    ({"STATUSGEN_SMTP_RATE": " "}, {"rate": 14}, 14.0),  # an empty variable counts as unset
])
def test_the_rate_comes_from_the_site_or_the_environment(env: dict[str, str], site: dict[str, Any],
                                                         rate: float | None) -> None:
    assert SmtpSettings.from_environment({**HOST, **env}, site).rate == rate


RATE_EXPECTED = "expected the relay's limit in messages per second, a number above 0 such as 14 or 0.5"


@pytest.mark.parametrize("env, site, message", [
    ({"STATUSGEN_SMTP_RATE": "fast"}, {}, f"STATUSGEN_SMTP_RATE: {RATE_EXPECTED}; found 'fast'"),
    ({"STATUSGEN_SMTP_RATE": "0"}, {}, f"STATUSGEN_SMTP_RATE: {RATE_EXPECTED}; found '0'"),
    ({"STATUSGEN_SMTP_RATE": "-14"}, {}, f"STATUSGEN_SMTP_RATE: {RATE_EXPECTED}; found '-14'"),
    ({"STATUSGEN_SMTP_RATE": "14/s"}, {}, f"STATUSGEN_SMTP_RATE: {RATE_EXPECTED}; found '14/s'"),
    ({}, {"rate": True}, f"notify.smtp.rate: {RATE_EXPECTED}; found True"),
    ({}, {"rate": float("inf")}, f"notify.smtp.rate: {RATE_EXPECTED}; found inf"),
    ({}, {"rates": 14}, "notify.smtp: expected only host, port, security, user, rate, timeout, ca_file; found rates"),
])
def test_a_bad_rate_names_the_setting(env: dict[str, str], site: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        SmtpSettings.from_environment({**HOST, **env}, site)
    assert str(raised.value) == message


SITE_WITH_RATE = """\
title: Status
base_url: https://status.example.org/
languages: [en, nl]
timezone: Europe/Brussels
notify:
  from: status@example.org
  smtp:
    host: relay.example.org
    rate: {rate}
"""


@pytest.mark.parametrize("rate, found", [("fast", "'fast'"), ("0", "0"), ("-1", "-1"), ("yes", "True"),
                                         ("[14]", "[14]")])
def test_a_bad_rate_in_the_site_settings_is_a_content_error_with_its_line(make_site: MakeSite, rate: str,
                                                                           found: str) -> None:
    root = make_site({"content/site.yaml": SITE_WITH_RATE.format(rate=rate)})
    with pytest.raises(ContentErrors) as raised:
        load_site(root)
    assert [str(error) for error in raised.value.errors] == [
        f"content/site.yaml:9: notify.smtp.rate: {RATE_EXPECTED}; found {found}"]


def test_a_good_rate_in_the_site_settings_reaches_the_relay_settings(make_site: MakeSite) -> None:
    root = make_site({"content/site.yaml": SITE_WITH_RATE.format(rate="0.5")})
    site, _ = load_site(root)
    assert SmtpSettings.from_environment({}, dict(site.config.notify.smtp)).rate == 0.5


# ── the progress line ──────────────────────────────────────────────────────────────────

class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def run_at(progress: Progress, clock: Clock, per_second: float, seconds: int, start: float) -> None:
    """Deliver at a steady rate for `seconds`, as a paced transport would."""
    for n in range(round(per_second * seconds)):
        clock.now = start + (n + 1) / per_second
        progress.delivered()


def test_the_progress_line_shows_the_recent_rate_and_when_the_send_ends() -> None:
    clock, stream = Clock(), io.StringIO()
    wall = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)  # 14:00 in Brussels
    progress = Progress(stream, clock=clock, wall=lambda: wall, zone=ZoneInfo("Europe/Brussels"))
    progress.started(10_000)
    run_at(progress, clock, 14, 20, 100.0)  # 14/s for 20 s
    lines = stream.getvalue().splitlines()
    assert lines[:4] == [  # one line about every 5 s, not one per message
        "notify: 70/10000 done, 0 failed, 0 uncertain, 0 deferred, 14 msg/s, done about 14:11 CET (in 12 min)",
        "notify: 140/10000 done, 0 failed, 0 uncertain, 0 deferred, 14 msg/s, done about 14:11 CET (in 12 min)",
        "notify: 210/10000 done, 0 failed, 0 uncertain, 0 deferred, 14 msg/s, done about 14:11 CET (in 12 min)",
        "notify: 280/10000 done, 0 failed, 0 uncertain, 0 deferred, 14 msg/s, done about 14:11 CET (in 12 min)"]
    assert len(lines) == 4


def test_the_rate_is_the_recent_one_not_the_average_since_the_start() -> None:
    clock, stream = Clock(), io.StringIO()
    progress = Progress(stream, clock=clock, wall=lambda: datetime(2026, 11, 30, 13, 0, tzinfo=UTC),
                        zone=ZoneInfo("Europe/Brussels"))
    progress.started(2000)
    run_at(progress, clock, 50, 10, 100.0)  # 50/s, then the relay slows down to 2/s
    run_at(progress, clock, 2, 30, clock.now)
    assert stream.getvalue().splitlines()[-1] == (  # since the start it would be 14/s
        "notify: 560/2000 done, 0 failed, 0 uncertain, 0 deferred, 2 msg/s, done about 14:12 CET (in 12 min)")


def test_the_finish_time_names_the_day_when_it_is_not_today_and_slow_rates_keep_a_decimal() -> None:
    clock, stream = Clock(), io.StringIO()
    progress = Progress(stream, clock=clock, wall=lambda: datetime(2026, 11, 30, 22, 30, tzinfo=UTC),
                        zone=ZoneInfo("Europe/Brussels"))
    progress.started(10_000)
    run_at(progress, clock, 0.5, 10, 100.0)
    assert stream.getvalue().splitlines()[-1] == (
        "notify: 3/10000 done, 0 failed, 0 uncertain, 0 deferred, 0.5 msg/s, done about 2026-12-01 05:03 CET "
        "(in 5 h 33 min)")


def test_without_a_known_total_the_line_has_no_finish_time_and_expect_gives_one() -> None:
    clock, stream = Clock(), io.StringIO()
    progress = Progress(stream, clock=clock, wall=lambda: datetime(2026, 11, 30, 13, 0, tzinfo=UTC),
                        zone=ZoneInfo("Europe/Brussels"))
    progress.started(None)
    run_at(progress, clock, 10, 5, 100.0)
    assert stream.getvalue().splitlines()[-1] == "notify: 50 done, 0 failed, 0 uncertain, 0 deferred, 10 msg/s"
    progress.expect(150)  # the notifier's queue: 150 more waiting
    progress.started(None)
    run_at(progress, clock, 10, 5, clock.now)
    assert stream.getvalue().splitlines()[-1] == (
        "notify: 100/200 done, 0 failed, 0 uncertain, 0 deferred, 10 msg/s, done about 14:00 CET (in 10 s)")


def test_durations_and_rates_read_as_people_say_them() -> None:
    assert [duration_text(s) for s in (0, 44.6, 59.4, 90, 750, 3599, 3600, 3900, 21000)] == \
        ["0 s", "45 s", "59 s", "2 min", "12 min", "1 h", "1 h", "1 h 5 min", "5 h 50 min"]
    assert [per_second(r) for r in (0, 0.5, 1, 2.25, 9.96, 14, 1234.4)] == ["0", "0.5", "1", "2.2", "10", "14", "1234"]


# ── the doctor ─────────────────────────────────────────────────────────────────────────

def test_the_doctor_says_what_the_rate_means_for_a_large_send(make_site: MakeSite) -> None:
    assert pace_text(14) == "at most 14 messages a second: 10,000 messages take about 13 min"
    assert pace_text(0.5, 100) == "at most 0.5 messages a second: 100 messages take about 4 min"
    assert pace_text(None) == ("no rate limit (notify.smtp.rate or STATUSGEN_SMTP_RATE: the relay's messages per "
                               "second)")
    root = make_site({"content/site.yaml": SITE_WITH_RATE.format(rate="14")})
    with socket.socket() as unused:  # a port nobody listens on: the relay check fails at once
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    env = {"STATUSGEN_SMTP_HOST": "127.0.0.1", "STATUSGEN_SMTP_PORT": str(port)}
    settings = next(check for check in diagnose(root, "smtp", env=env, timeout=1).checks
                    if check.name == "SMTP settings")
    assert settings.found == (f"127.0.0.1:{port}, security none, no login, at most 14 messages a second: "
                              "10,000 messages take about 13 min")
