"""Push beyond email: signed webhooks with Statuspage's payload, and chat channels.

    Event + its snapshot context ──payloads (per format, per language)──▶ Payload(s)
        statuspage: {meta, page, incident} (+ {meta, page, component_update, component} per change)
        slack | teams | googlechat | discord | mattermost: one chat message
    Payload ──WebhookRequest (URL, exact body bytes, stable webhook-id, secrets)──▶ WebhookTransport
        ──SSRF-checked connection (network), Standard Webhooks signature (signing), no redirects──▶
        outcome ──▶ ledger (sent | retry_later | failed | uncertain | gone)

The same ledger as email (notifier/delivery.py): queued before sending, never twice.
"""
