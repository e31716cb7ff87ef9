"""Authoring: the tools ops use to write and preview a site.

    new incident|maintenance  options ──▶ a new file under incidents/YYYY/ ──▶ checked by the loader
    new update                the file as it stands ──▶ one update inserted, comments kept ──▶ checked
    init                      the packaged scaffold ──▶ a temporary folder ──▶ checked ──▶ DIR
    serve [--watch]           files ──watchdog──▶ Builder ──▶ a local preview that reloads itself

    commands.py   `new` and `init` on the command line (register, then one call each)
    incident.py   `new incident|maintenance`: a new file, named after its day and title
    update.py     `new update`: an update appended to a file as it stands (yaml.compose marks)
    options.py    the site written into, times as people write them, checked option values
    yamltext.py   YAML as text: values that read back the same, per-language fields, NewUpdate
    init.py       `init`: the scaffold, staged and loaded before it is copied
    origin.py     the running statusgen's install, as the requirement line `init` writes
    serve.py      `serve [--watch]`: the live preview

Every file written here is read back by the same loader the build uses, and a file it
rejects is restored (or removed) with its errors.
"""
