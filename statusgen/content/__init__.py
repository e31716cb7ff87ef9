"""Content: the site's files, read and validated into the frozen model.

    content/site.yaml ──config──┐
    components.yaml ──catalog───┤
    incidents/**/*.md ─incidents┼──load──▶ Site (+ subscribers, kept apart)   or   ContentErrors
    content/pages/ ────pages────┤          every problem at once, as PATH:LINE: message
    subscribers.yaml ─subscribers┘

    yamlsource.py  YAML with the line of every key (for PATH:LINE errors)
    fields.py      typed readers for one mapping: expected/found, did-you-mean
    model.py       the frozen dataclasses the rest of statusgen trusts
    filecache.py   parsed files reused while unchanged (the live preview's loads)
    relay.py       the SMTP relay's settings: notify.smtp, overridden by STATUSGEN_SMTP_*

Each file is checked on its own, then cross-file rules run over the whole model. After
`load_site` nothing re-checks a field. This layer knows nothing of time, pages or sending email.
"""
