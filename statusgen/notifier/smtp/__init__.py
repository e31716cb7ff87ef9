"""SMTP: deliver through a relay, several connections at once, never a message twice.

    SmtpTransport.deliver ──▶ pool: n workers, each with one session, take from the queue
        session.transact: pace (the relay's rate, shared) ─▶ wire up to the body
            ─▶ handover.committing ─▶ wire: the final dot
        a Transient problem ─▶ retry (policy: backoff, jitter) ─▶ or defer for the next run
        the outcome ─▶ handover: ledger (sent | failed | uncertain | retry_later) + progress

    transport.py  SmtpTransport: the settings, opening a connection, one deliver call
    deadline.py   connections whose every answer must arrive whole within the timeout
    pool.py       the workers, the shared queue, hand-back, halt and stop
    retry.py      RetryPolicy: how often and after how long
    pace.py       Pace: the relay's messages per second, one schedule of slots for all connections
    handover.py   what became of each message, told to the ledger and the progress
    session.py    one worker's connection: reused, reset, split around the dot
    wire.py       the SMTP commands of one transaction; DATA's dot-stuffing
    problems.py   Transient | Permanent | Uncertain | Refused, from replies and errors

The settings themselves (`SmtpSettings`) are read in content/relay.py.
"""

from statusgen.notifier.smtp.transport import SmtpTransport

__all__ = ["SmtpTransport"]
