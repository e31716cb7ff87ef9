"""Notify: tell subscribers what changed since the last announcement, never twice.

    snapshot (from the build) ──events.diff──▶ events ──recipients──▶ deliveries queued in the store
        ──emails: render once per (event, language)──▶ messages ──transport + ledger──▶ sent

    run.py         `notify`: one run of the pipeline above, with its checks and summary
    events.py      pure: the difference between a snapshot and what was announced
    recipients.py  pure: who follows an event's components (groups expand)
    emails.py      the message for one (event, language), then per subscriber
    store.py       the notifier store: announced facts, the queue and ledger of every delivery
    delivery.py    what every transport shares: Outgoing, the Ledger, Progress (addresses masked)
    outbox.py      the default transport: one file per message in a Maildir
    smtp/          the SMTP transport; `committing` is recorded before the final dot

Who the subscribers are is not this package's business: the run is handed an audience
(the command line wires in the subscription store), so the notifier imports nothing above it.
"""
