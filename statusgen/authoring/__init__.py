"""Authoring: the tools ops use to write and preview a site.

    new incident|maintenance  options ──▶ a new file under incidents/YYYY/ ──▶ checked by the loader
    new update                the file as it stands ──▶ one update inserted, comments kept ──▶ checked
    init                      the packaged scaffold ──▶ a temporary folder ──▶ checked ──▶ DIR
    serve [--watch]           files ──watchdog──▶ Builder ──▶ a local preview that reloads itself

Every file written here is read back by the same loader the build uses, and a file it
rejects is restored (or removed) with its errors.
"""
