"""Notify: tell subscribers what changed since the last announcement, never twice.

    snapshot (from the build) ──events.diff──▶ events ──recipients──▶ deliveries queued in the store
        ──compose per (event, language)──▶ message per subscriber ──transport + ledger──▶ sent
        ──webhookrun: payloads, signed requests──▶ WebhookTransport + ledger ──▶ sent

    run.py           `notify`: one run of the pipeline above, with its checks and summary
    preflight.py     what a run needs before any work (settings, the relay, the store), one check each
    audience.py      the protocol of who the subscribers are (handed in by the caller)
    events.py        pure: the difference between a snapshot and what was announced
    recipients.py    pure: who follows an event's components (groups expand)
    compose.py       an email's first step: one (event, language) rendered from the templates
    placeholders.py  what the first step leaves open per subscriber (links, sections)
    plaintext.py     Markdown as the text part's plain text
    message.py       an email's second step: one subscriber's message, headers and threading
    wire.py          the email policy: headers checked, serialised as SMTP wants (CRLF, literal ids)
    store.py         the notifier store: announced facts, the queue and ledger of every delivery
    pgstore.py       the same store in PostgreSQL, shared by runs on several machines at once
    backends.py      which store a command uses: --store PATH|URL, STATUSGEN_DATABASE_URL, the site's file
    delivery.py      what every transport shares: Outgoing, the Ledger, Progress (addresses masked)
    outbox.py        the default transport: one file per message in a Maildir
    smtp/            the SMTP transport; `committing` is recorded before the final dot
    webhooks/        webhook and chat deliveries: payloads, signing, the SSRF policy, the transport
    webhookrun.py    the run's webhook side: payload parts, rows to signed requests, outcomes to the ledger
    health.py        a webhook endpoint's health: when 10 failures over an hour quarantine it
    notice.py        the one email a quarantined webhook's contact gets

Who the subscribers are is not this package's business: the run is handed an audience
(the command line wires in the subscription store), so the notifier imports nothing above it.
"""
