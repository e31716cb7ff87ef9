"""Moving in: another status page's history, components, templates and subscribers as site files.

    Statuspage: a page URL (public API, history.json, incidents/CODE.json; cached, polite)
              | a folder of saved JSON | the manage API (--page-id, STATUSPAGE_API_KEY)
        ──statuspage.sources──▶ Dump (the raw JSON objects, deduplicated)
        ──statuspage.mapping──▶ Records (components, incidents, templates; a Report of what did not map)
    cState: content/issues/*.md + config.yml ──cstate──▶ Records
    Records ──write──▶ components.yaml, incidents/YYYY/*.md, content/templates/*.yaml
        (a rerun finds each file by its aliases and rewrites only what changed)
        ──▶ statusgen check (an import that does not pass is undone)
    subscribers (manage API or CSV) ──statuspage.subscribers──▶ the subscription store
        (confirmed with --trust-confirmed, else one confirmation email each; suppressions kept)
"""
