"""Push beyond email: signed webhooks with Statuspage's payload, and chat channels.

    Event + its snapshot context ──payloads (per format, per language)──▶ Payload(s)
        statuspage: {meta, page, incident} (+ {meta, page, component_update, component} per change)
        slack | teams | googlechat | discord | mattermost: one chat message
    Payload ──WebhookRequest (URL, exact body bytes, stable webhook-id, secrets)──▶ WebhookTransport
        ──SSRF-checked connection (network), Standard Webhooks signature (signing), no redirects──▶
        outcome ──▶ ledger (sent | retry_later | failed | uncertain | gone)

The same ledger as email (notifier/delivery.py): queued before sending, never twice.

    payloads.py   the bodies, per format and language
    transport.py  WebhookTransport: the outcomes, the workers, the ledger hand-over
    schedule.py   who goes next: per endpoint in order, per host at most a few, chat intervals
    attempt.py    one POST: connect, sign, commit, send, judge the answer; the watchdog
    network.py    the SSRF policy (STATUSGEN_WEBHOOK_ALLOW_NETS), pinned connections, masked URLs
    signing.py    Standard Webhooks signatures and secrets
"""
