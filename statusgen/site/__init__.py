"""Site: the state at a moment, and everything the build publishes.

    Site ──state(now)──▶ SiteState ──uptime──▶ daily uptime per component
         ──render──▶ pages (theme, shared pieces, urls) + machine outputs
                     (feeds, ical, api, badges, embed, seo, snapshot)
         ──output──▶ public/, swapped into place whole

    build.py        the pipeline, once (`build`, `check`) or again and again (`Builder`)
    state.py        pure: statuses, timelines, the indicator, at an explicit `now`
    uptime.py       pure: minutes per status per day, in the site's timezone
    render.py       pages per language, in forked workers; machine outputs meanwhile
    theme.py        templates, translations and static files, site over packaged theme
    snapshot.py     the notifier's input, written beside the site (not published)
    incremental.py  what one build keeps for the next (`statusgen serve --watch`)

Same input and `now`, same bytes. No subscriber address reaches anything here: the
model handed to this layer has none.
"""
