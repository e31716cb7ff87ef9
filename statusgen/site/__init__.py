"""Site: the state at a moment, and everything the build publishes.

    Site ──state(now)──▶ SiteState ──uptime──▶ daily uptime per component
         ──render──▶ pages (theme, shared pieces, urls) + machine outputs
                     (feeds, ical, api, badges, embed, seo, snapshot)
         ──output──▶ public/, swapped into place whole

    build.py        the pipeline, once (`build`, `check`) or again and again (`Builder`)
    state.py        pure: statuses, timelines, the indicator, at an explicit `now`
    uptime.py       pure: minutes per status per day, in the site's timezone
    render.py       every output: pages per language in forked workers, machine outputs meanwhile
    pages.py        which pages one language has, and how one page is made
    helpers.py      what templates call: status, impact, update text, time, uptime bars
    fingerprints.py what each output shows, so `serve --watch` reuses the unchanged ones
    theme.py        templates, translations and static files, site over packaged theme
    output.py       the outputs by path (`Outputs`), written into place whole
    snapshot.py     the notifier's input, written beside the site (not published)
    incremental.py  what one build keeps for the next (`statusgen serve --watch`)

Same input and `now`, same bytes. No subscriber address reaches anything here: the
model handed to this layer has none.
"""
