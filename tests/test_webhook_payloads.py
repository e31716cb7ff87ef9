"""What webhook and chat subscribers receive, for events found by the real snapshot diff of
the example site: Statuspage's bodies checked against JSON Schemas of its published samples
and against the very objects of our built API; every chat target's message against its
documented structure and limits (tests/schemas/chat-messages.schema.json); hostile and
oversized texts escaped and shortened in every format; which format a URL gets."""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import regex
from jsonschema import Draft202012Validator

from statusgen import ids
from statusgen.notifier.events import Event, diff
from statusgen.notifier.plaintext import markdown_to_text
from statusgen.notifier.webhooks import discord, googlechat, mattermost, slack
from statusgen.notifier.webhooks.chattext import defuse_plain, units
from statusgen.notifier.webhooks.payloads import (
    FORMATS,
    Links,
    Payload,
    PayloadRenderer,
    detect_format,
    payloads,
)
from statusgen.notifier.webhooks.statuspage_body import DOCUMENTATION
from statusgen.site.build import BuildResult, build
from statusgen.site.theme import Theme
from tests.conftest import COMPONENTS_YAML, EXAMPLE_NOW, ROOT, SITE_YAML

NOW = datetime.fromisoformat(EXAMPLE_NOW)
LATER = "2026-12-06T23:00:00+01:00"
SCHEMAS = Path(__file__).parent / "schemas"
WEBHOOK_SCHEMA = json.loads((SCHEMAS / "statuspage-webhook.schema.json").read_text())
CHAT_SCHEMA = json.loads((SCHEMAS / "chat-messages.schema.json").read_text())
MANAGE = "https://status.example.org/subscriptions/manage/TOKEN"
CHAT = [fmt for fmt in FORMATS if fmt != "statuspage"]
LANGS = ["nl", "en"]
P1 = "2026-11-03-pdf-certificates-unavailable"
LOOKUP = "2026-11-30-lookup-app-slow"
UPGRADE = "2026-12-06-gateway-and-signing-network-upgrade"
DATABASE = "2026-09-16-database-maintenance"
CANCELLED = "2026-10-14-eid-connector-upgrade"
KINDS = ["incident_created", "incident_updated", "incident_resolved", "maintenance_scheduled",
         "maintenance_reminder", "maintenance_started", "maintenance_completed", "maintenance_changed",
         "maintenance_cancelled"]
LIMITS = {"slack": None, "teams": 28_000, "googlechat": 32_000, "discord": None, "mattermost": None}
"""Bytes of the whole body, where the target counts bytes."""


def validator(schema: dict[str, Any], ref: str | None = None) -> Draft202012Validator:
    return Draft202012Validator({**schema, "$ref": f"#/$defs/{ref}"} if ref else schema)


WEBHOOK = validator(WEBHOOK_SCHEMA)
CHAT_VALIDATORS = {fmt: validator(CHAT_SCHEMA, fmt) for fmt in CHAT}


def context_of(snapshot: dict[str, Any], event: Event) -> dict[str, Any]:
    """The event's context as the notifier store keeps it: the snapshot without the other
    incidents, through JSON with sorted keys (so no order of a mapping survives)."""
    context = {**{k: v for k, v in snapshot.items() if k != "incidents"},
               "incidents": {event.incident: snapshot["incidents"][event.incident]}}
    return json.loads(json.dumps(context, sort_keys=True))


def links_for(snapshot: dict[str, Any], event: Event, lang: str) -> Links:
    return Links(snapshot["incidents"][event.incident]["url"][lang], MANAGE)


def strings(value: Any) -> list[str]:
    """Every string in a JSON value, keys excluded."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []


@pytest.fixture(scope="module")
def theme() -> Theme:
    return Theme(ROOT)


@pytest.fixture(scope="module")
def later_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The example site while the December maintenance runs."""
    return build(ROOT, tmp_path_factory.mktemp("later") / "public", LATER)


def snapshot_of(result: BuildResult) -> dict[str, Any]:
    return json.loads(result.outputs.snapshot)


@pytest.fixture(scope="module")
def events(example_build: BuildResult, later_build: BuildResult) -> dict[str, tuple[Event, BuildResult]]:
    """One event of every kind, each with the build it was found in, all from `diff`."""
    snapshot = snapshot_of(example_build)
    first, keys = diff(snapshot, set(), NOW)
    found = {(e.kind, e.incident): e for e in first}
    picked = {kind: found[kind, incident] for kind, incident in [
        ("incident_created", LOOKUP), ("incident_resolved", P1), ("maintenance_scheduled", UPGRADE),
        ("maintenance_completed", DATABASE), ("maintenance_cancelled", CANCELLED)]}
    lookup_first = f"{LOOKUP}/update/{snapshot['incidents'][LOOKUP]['updates'][0]['id']}"
    picked["incident_updated"] = next(e for e in diff(snapshot, {lookup_first}, NOW)[0] if e.incident == LOOKUP)
    (picked["maintenance_reminder"],), _ = diff(snapshot, keys, datetime.fromisoformat("2026-12-06T00:00:00+01:00"))
    old_window = {"start": "2026-12-05T22:00:00.000+01:00", "end": "2026-12-06T02:00:00.000+01:00"}
    moved_keys = {k for k in keys if not k.startswith(f"{UPGRADE}/window/")} | {
        f"{UPGRADE}/window/{old_window['start']}/{old_window['end']}"}
    (picked["maintenance_changed"],), _ = diff(snapshot, moved_keys, NOW,
                                               previous={"incidents": {UPGRADE: {"window": old_window}}})
    (started,), _ = diff(snapshot_of(later_build), keys, datetime.fromisoformat(LATER))
    chosen = {kind: (event, example_build) for kind, event in picked.items()}
    chosen["maintenance_started"] = (started, later_build)
    assert {event.kind for event, _ in chosen.values()} == set(KINDS)
    return chosen


def send(fmt: str, event: Event, result: BuildResult, lang: str, theme: Theme) -> list[Payload]:
    snapshot = snapshot_of(result)
    return payloads(fmt, event, context_of(snapshot, event), lang, theme, links_for(snapshot, event, lang), NOW)


def api(result: BuildResult, lang: str, name: str) -> dict[str, Any]:
    prefix = "" if lang == result.site.config.default_language else f"{lang}/"
    return json.loads(result.outputs[f"{prefix}api/v2/{name}"])


def api_incident(result: BuildResult, lang: str, public_id: str) -> dict[str, Any] | None:
    listed = [*api(result, lang, "incidents.json")["incidents"],
              *api(result, lang, "scheduled-maintenances.json")["scheduled_maintenances"]]
    return next((incident for incident in listed if incident["id"] == public_id), None)


# --- Statuspage's bodies ---------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", KINDS)
def test_the_incident_body_is_the_apis_incident_object(events: dict[str, tuple[Event, BuildResult]], theme: Theme,
                                                        kind: str, lang: str) -> None:
    event, result = events[kind]
    first, *_ = send("statuspage", event, result, lang, theme)
    body = json.loads(first.body)
    WEBHOOK.validate(body)
    assert first.part == "" and first.query == ()
    assert list(body) == ["meta", "page", "incident"]
    assert body["meta"] == {"unsubscribe": MANAGE, "documentation": DOCUMENTATION,
                            "generated_at": "2026-11-30T11:00:00.000Z"}
    status = api(result, lang, "status.json")
    assert body["page"] == {"id": status["page"]["id"], "status_indicator": status["status"]["indicator"],
                            "status_description": status["status"]["description"]}
    record = snapshot_of(result)["incidents"][event.incident]
    published = api_incident(result, lang, record["public_id"])
    if kind == "maintenance_cancelled":
        # Documented difference: the API leaves a cancelled maintenance out; the webhook says so.
        assert published is None
        assert body["incident"]["status"] == "cancelled" and body["incident"]["name"] == record["title"][lang]
        assert body["incident"]["incident_updates"][0]["status"] == "cancelled"
        return
    assert published is not None
    # The same object: keys in the same order, the same values (updates newest first).
    assert json.dumps(body["incident"], ensure_ascii=False) == json.dumps(published, ensure_ascii=False)
    assert body["incident"]["name"] == record["title"][lang]


def test_the_schema_rejects_what_a_statuspage_receiver_would_not_accept(
        events: dict[str, tuple[Event, BuildResult]], theme: Theme) -> None:
    event, result = events["incident_resolved"]
    incident, change = (json.loads(p.body) for p in send("statuspage", event, result, "en", theme)[:2])
    both = {**incident, "component_update": change["component_update"]}
    no_updates = copy.deepcopy(incident)
    del no_updates["incident"]["incident_updates"]
    maintenance_without_window = copy.deepcopy(incident)
    maintenance_without_window["incident"]["status"] = "in_progress"
    bad_type = copy.deepcopy(change)
    bad_type["component_update"]["component_type"] = "Group"
    for spoiled in (both, no_updates, maintenance_without_window, bad_type, {**incident, "meta": {}}):
        assert not WEBHOOK.is_valid(spoiled)


COMPONENT_EVENTS = ["incident_resolved", "maintenance_started", "maintenance_completed"]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", COMPONENT_EVENTS)
def test_one_component_update_body_per_status_change(events: dict[str, tuple[Event, BuildResult]], theme: Theme,
                                                      kind: str, lang: str) -> None:
    event, result = events[kind]
    record = snapshot_of(result)["incidents"][event.incident]
    update = next(u for u in record["updates"] if u["id"] == event.update)
    assert update["changes"], "the example's event must change a component"
    sent = send("statuspage", event, result, lang, theme)
    assert [p.part for p in sent] == ["", *(f"component/{cid}" for cid, _, _ in update["changes"])]
    components = {c["id"]: c for c in api(result, lang, "components.json")["components"]}
    for payload, (cid, old, new) in zip(sent[1:], update["changes"], strict=True):
        body = json.loads(payload.body)
        WEBHOOK.validate(body)
        assert list(body) == ["meta", "page", "component_update", "component"]
        change = body["component_update"]
        assert list(change) == ["created_at", "new_status", "old_status", "id", "component_id", "component_type"]
        assert (change["old_status"], change["new_status"], change["created_at"]) == (old, new, update["at"])
        assert change["component_id"] == ids.component_id(cid)
        assert json.dumps(body["component"]) == json.dumps(components[change["component_id"]])
    change_ids = [json.loads(p.body)["component_update"]["id"] for p in sent[1:]]
    assert len(set(change_ids)) == len(change_ids)
    again = send("statuspage", event, result, lang, theme)[1:]
    assert change_ids == [json.loads(p.body)["component_update"]["id"] for p in again]


def test_an_update_that_changes_nothing_and_a_reminder_send_only_the_incident(
        events: dict[str, tuple[Event, BuildResult]], example_build: BuildResult, theme: Theme) -> None:
    for kind in ("incident_created", "maintenance_reminder", "maintenance_cancelled"):
        event, result = events[kind]
        assert [p.part for p in send("statuspage", event, result, "en", theme)] == [""]
    # The lookup incident's first update (made by hand: the diff collapsed it) degraded a component.
    snapshot = snapshot_of(example_build)
    first = snapshot["incidents"][LOOKUP]["updates"][0]
    event = Event(f"{LOOKUP}/update/{first['id']}", "incident_created", LOOKUP, first["id"], ("dcc-lookup",))
    sent = send("statuspage", event, example_build, "nl", theme)
    assert [p.part for p in sent] == ["", "component/dcc-lookup"]
    change = json.loads(sent[1].body)["component_update"]
    assert (change["old_status"], change["new_status"]) == ("operational", "degraded_performance")


def test_bodies_are_compact_deterministic_json(events: dict[str, tuple[Event, BuildResult]], theme: Theme) -> None:
    for fmt in FORMATS:
        event, result = events["incident_resolved"]
        sent = send(fmt, event, result, "nl", theme)
        assert sent == send(fmt, event, result, "nl", theme)
        for payload in sent:
            assert payload.body == json.dumps(json.loads(payload.body), ensure_ascii=False,
                                              separators=(",", ":")).encode()


# --- Chat targets ------------------------------------------------------------------------------


def chat(fmt: str, event: Event, result: BuildResult, lang: str, theme: Theme) -> tuple[Payload, dict[str, Any]]:
    (payload,) = send(fmt, event, result, lang, theme)
    body = json.loads(payload.body)
    CHAT_VALIDATORS[fmt].validate(body)
    if LIMITS[fmt]:
        assert len(payload.body) <= LIMITS[fmt]
    assert_within_limits(fmt, body)
    return payload, body


def assert_within_limits(fmt: str, body: dict[str, Any]) -> None:
    """What JSON Schema cannot count: UTF-16 units, and what a target adds up."""
    if fmt == "slack":
        for block in body["blocks"]:
            if block["type"] == "header":
                assert units(block["text"]["text"]) <= 150
            elif block["type"] == "section":
                assert units(block.get("text", {}).get("text", "")) <= 3000
                assert all(units(field["text"]) <= 2000 for field in block.get("fields", []))
            elif block["type"] == "actions":
                assert all(units(button["text"]["text"]) <= 75 for button in block["elements"])
    elif fmt == "discord":
        assert units(body["content"]) <= 2000
        for embed in body["embeds"]:
            counted = [embed["title"], embed.get("description", ""), embed["footer"]["text"],
                       *(part for f in embed["fields"] for part in (f["name"], f["value"]))]
            assert sum(units(text) for text in counted) <= 6000
            assert units(embed.get("description", "")) <= 4096
            assert all(units(f["value"]) <= 1024 and units(f["name"]) <= 256 for f in embed["fields"])
    elif fmt == "mattermost":
        assert units(body["text"]) <= 4000
    elif fmt == "googlechat":
        for text in strings(body):
            assert units(text) <= 4096


def shown_status(result: BuildResult, event: Event) -> str:
    record = snapshot_of(result)["incidents"][event.incident]
    update = next((u for u in record["updates"] if u["id"] == event.update), None)
    return update["status"] if update else record["status"]


@pytest.mark.parametrize("fmt", CHAT)
@pytest.mark.parametrize("kind", KINDS)
def test_every_chat_message_says_what_happened_in_the_subscribers_language(
        events: dict[str, tuple[Event, BuildResult]], theme: Theme, kind: str, fmt: str) -> None:
    event, result = events[kind]
    snapshot = snapshot_of(result)
    record = snapshot["incidents"][event.incident]
    for lang in LANGS:
        messages = theme.messages(lang)
        _, body = chat(fmt, event, result, lang, theme)
        text = "\n".join(strings(body))
        assert record["title"][lang] in text
        assert messages["status"][shown_status(result, event)] in text
        assert messages["email"]["kind"][kind].split("{")[0].strip() in text
        assert re.search(r"\d\d[:.]\d\d (CET|CEST)", text), "the time with its zone"
        assert record["url"][lang] in text
        if record["kind"] == "incident":
            assert f"{record['priority']} ({messages['impact'][record['impact']]})" in text
        for cid in record["components"]:
            assert snapshot["components"][cid]["name"][lang] in text


@pytest.mark.parametrize("fmt", CHAT)
def test_both_languages_give_their_own_words(events: dict[str, tuple[Event, BuildResult]], theme: Theme,
                                              fmt: str) -> None:
    event, result = events["incident_created"]
    dutch = "\n".join(strings(chat(fmt, event, result, "nl", theme)[1]))
    english = "\n".join(strings(chat(fmt, event, result, "en", theme)[1]))
    for words in ("Nieuw incident", "Oorzaak gevonden", "Prioriteit", "P3 (Klein)", "Geplaatst",
                  "30 nov 2026, 06:20 CET",
                  "Opzoekapplicatie traag", "Verminderde prestaties", "Meer informatie op de statuspagina",
                  "De nachtelijke synchronisatie"):
        assert words in dutch and words not in english
    for words in ("New incident", "Identified", "Priority", "P3 (Minor)", "Posted", "30 Nov 2026, 06:20 CET",
                  "Lookup application slow", "Degraded performance", "More information on the status page",
                  "The nightly synchronisation"):
        assert words in english and words not in dutch


def test_slack_lays_out_header_facts_update_components_and_a_button(
        events: dict[str, tuple[Event, BuildResult]], theme: Theme) -> None:
    event, result = events["incident_resolved"]
    _, body = chat("slack", event, result, "en", theme)
    assert [block["type"] for block in body["blocks"]] == ["header", "section", "section", "section", "context",
                                                            "actions"]
    assert body["blocks"][0]["text"]["text"].startswith("\u2705 Incident resolved: PDF certificates")
    assert body["blocks"][-1]["elements"][0]["url"] == "https://status.example.org/en/incidents/" + P1 + "/"
    assert body["text"].endswith(f"<https://status.example.org/en/incidents/{P1}/|More information on the status page>")


def test_teams_sends_an_adaptive_card_in_a_workflows_message(events: dict[str, tuple[Event, BuildResult]],
                                                             theme: Theme) -> None:
    event, result = events["maintenance_scheduled"]
    _, body = chat("teams", event, result, "nl", theme)
    card = body["attachments"][0]["content"]
    assert [e["type"] for e in card["body"]] == ["TextBlock", "RichTextBlock", "FactSet", "RichTextBlock",
                                                 "TextBlock", "RichTextBlock", "RichTextBlock"]
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Meer informatie op de statuspagina",
                                "url": f"https://status.example.org/incidents/{UPGRADE}/"}]
    facts = dict((f["title"], f["value"]) for f in card["body"][2]["facts"])
    assert facts["Onderhoudsvenster"].endswith("CET") and "Prioriteit" not in facts


def test_google_chat_keeps_one_thread_per_incident(events: dict[str, tuple[Event, BuildResult]],
                                                   theme: Theme) -> None:
    created, result = events["incident_created"]
    updated, _ = events["incident_updated"]
    first, _ = chat("googlechat", created, result, "en", theme)
    second, _ = chat("googlechat", updated, result, "en", theme)
    public_id = snapshot_of(result)["incidents"][LOOKUP]["public_id"]
    expected = (("threadKey", public_id), ("messageReplyOption", "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"))
    assert first.query == second.query == expected
    other, _ = chat("googlechat", *events["incident_resolved"], "en", theme)
    assert other.query[0] != first.query[0]


def test_discord_pings_nobody_and_shows_one_embed(events: dict[str, tuple[Event, BuildResult]],
                                                  theme: Theme) -> None:
    event, result = events["maintenance_started"]
    _, body = chat("discord", event, result, "en", theme)
    assert body["allowed_mentions"] == {"parse": []}
    (embed,) = body["embeds"]
    assert embed["url"] == f"https://status.example.org/en/incidents/{UPGRADE}/"
    assert embed["color"] == 0x1565C0 and embed["timestamp"].startswith("2026-12-06T")


def test_a_run_makes_each_chat_message_once_per_language(events: dict[str, tuple[Event, BuildResult]],
                                                         theme: Theme) -> None:
    event, result = events["incident_resolved"]
    snapshot = snapshot_of(result)
    context, render = context_of(snapshot, event), PayloadRenderer(theme)
    for fmt in FORMATS:
        for lang in LANGS:
            links = links_for(snapshot, event, lang)
            first = render(fmt, event, context, lang, links, NOW)
            assert first == payloads(fmt, event, context, lang, theme, links, NOW)
            again = render(fmt, event, context, lang, Links(links.incident_url, MANAGE + "/other"), NOW)
            assert (again is first) == (fmt != "statuspage")
            if fmt == "statuspage":
                assert json.loads(again[0].body)["meta"]["unsubscribe"] == MANAGE + "/other"


def test_payloads_refuse_an_unknown_format(events: dict[str, tuple[Event, BuildResult]], theme: Theme) -> None:
    event, result = events["incident_created"]
    with pytest.raises(ValueError) as refused:
        send("email", event, result, "en", theme)
    assert str(refused.value) == ("format: expected one of statuspage, slack, teams, googlechat, discord, "
                                  "mattermost; found 'email'")


# --- Hostile and oversized texts ------------------------------------------------------------

HOSTILE_TITLE = "<!channel> @everyone <script>alert(1)</script> *bold* [x](javascript:alert(1)) & <@123> <users/all>"
HOSTILE_BODY = """\
Hello <!here> @here and @everyone, <script>alert(1)</script> *bold* **strong** ||spoiler||
[click](javascript:alert(1)) and [docs](https://example.org/a_b?x=1&y=2) <users/all> `code`

# a heading

- a list item with <@123>
"""
HOSTILE_INCIDENT = f"""\
---
title: {json.dumps(HOSTILE_TITLE)}
impact: critical
components: {{dcc-app: major_outage}}
updates:
  - at: 2026-11-30 09:00
    status: investigating
    body: {json.dumps(HOSTILE_BODY)}
---
"""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Event, dict[str, Any]]:
    """A real site with an incident whose title and text attack every target's markup."""
    root = tmp_path_factory.mktemp("hostile") / "site"
    for path, text in {"content/site.yaml": SITE_YAML, "components.yaml": COMPONENTS_YAML,
                       "incidents/hostile.md": HOSTILE_INCIDENT}.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    snapshot = snapshot_of(build(root, root / "public", EXAMPLE_NOW))
    (event,), _ = diff(snapshot, set(), NOW)
    return event, snapshot


def hostile_payload(fmt: str, hostile: tuple[Event, dict[str, Any]], theme: Theme, lang: str) -> dict[str, Any]:
    event, snapshot = hostile
    (payload,) = payloads(fmt, event, context_of(snapshot, event), lang, theme, links_for(snapshot, event, lang), NOW)
    body = json.loads(payload.body)
    CHAT_VALIDATORS[fmt].validate(body)
    assert_within_limits(fmt, body)
    return body


LIVE_MARKUP = {
    "slack": re.compile("<(?!https?://|\u2060)"),
    "teams": re.compile("<(?!\u2060)"),
    "googlechat": re.compile('<(?!a href="https?://|/a>|br>|\u2060)'),
    "discord": re.compile("(?<!\\\\)<(?!https?://|\u2060)"),
    "mattermost": re.compile("(?<!\\\\)<(?!https?://|\u2060)"),
}
"""A `<` that starts markup we did not write: a mention, a tag, a link. Ours are web
addresses (and Google Chat's `<a href>` and `<br>`); every other `<` is escaped or defused."""
LIVE_JAVASCRIPT = {"slack": re.compile("<javascript"), "teams": re.compile("(?!)"),
                   "googlechat": re.compile('href="javascript'), "discord": re.compile(r"(?<!\\)\]\(javascript"),
                   "mattermost": re.compile(r"(?<!\\)\]\(javascript")}
"""A link to `javascript:` as each target would follow it (in a title it is only text)."""


@pytest.mark.parametrize("fmt", CHAT)
def test_hostile_text_is_escaped_in_every_chat_target(hostile: tuple[Event, dict[str, Any]], theme: Theme,
                                                      fmt: str) -> None:
    for lang in LANGS:
        texts = strings(hostile_payload(fmt, hostile, theme, lang))
        for text in texts:
            assert not LIVE_MARKUP[fmt].search(text), text
            assert not LIVE_JAVASCRIPT[fmt].search(text), text
            assert not re.search(r"@(everyone|here|channel)", text), text
        joined = "\n".join(texts)
        assert "@\u2060everyone" in joined and "@\u2060here" in joined
        assert "alert(1)</script>" not in joined


def test_each_target_escapes_in_its_own_markup(hostile: tuple[Event, dict[str, Any]], theme: Theme) -> None:
    slack_body = hostile_payload("slack", hostile, theme, "en")
    update = slack_body["blocks"][2]["text"]["text"]
    assert "&lt;!here&gt;" in update and "script" not in update  # nh3 drops the script, the text escapes the rest
    assert "<https://example.org/a_b?x=1&amp;y=2|docs>" in update
    assert "&lt;!channel&gt; @\u2060everyone" in slack_body["text"]
    assert slack_body["blocks"][0]["text"]["text"].startswith("\U0001F534 New incident: <\u2060!channel>")

    discord_body = hostile_payload("discord", hostile, theme, "en")
    assert discord_body["embeds"][0]["title"].startswith("\\<!channel\\> @\u2060everyone \\<script\\>")
    assert "\\*bold\\*" in discord_body["content"]
    description = discord_body["embeds"][0]["description"]
    assert "[docs](https://example.org/a_b?x=1&y=2)" in description and "\\|\\|spoiler\\|\\|" in description
    assert "- a list item with \\<@\u2060123\\>" in description

    mattermost_text = hostile_payload("mattermost", hostile, theme, "en")["text"]
    assert "\\[x\\]" in mattermost_text and "\\*bold\\*" in mattermost_text
    assert "[docs](https://example.org/a_b?x=1&y=2)" in mattermost_text

    card = hostile_payload("googlechat", hostile, theme, "en")["cardsV2"][0]["card"]
    paragraph = card["sections"][0]["widgets"][-1]["textParagraph"]["text"]
    assert "&lt;!here&gt;" in paragraph and "script" not in paragraph and "<br><br><br>" not in paragraph
    assert '<a href="https://example.org/a_b?x=1&amp;y=2">docs</a>' in paragraph
    assert card["header"]["subtitle"].startswith("<\u2060!channel>")

    teams_card = hostile_payload("teams", hostile, theme, "en")["attachments"][0]["content"]
    runs = [inline["text"] for element in teams_card["body"] if element["type"] == "RichTextBlock"
            for inline in element["inlines"]]
    assert runs[0].startswith("<\u2060!channel> @\u2060everyone <\u2060script>")
    assert all(HOSTILE_TITLE.split()[2] not in e.get("text", "") for e in teams_card["body"])


def test_the_statuspage_body_carries_the_text_as_data(hostile: tuple[Event, dict[str, Any]], theme: Theme) -> None:
    event, snapshot = hostile
    (first,) = payloads("statuspage", event, context_of(snapshot, event), "en", theme,
                        links_for(snapshot, event, "en"), NOW)[:1]
    body = json.loads(first.body)
    WEBHOOK.validate(body)
    assert body["incident"]["name"] == HOSTILE_TITLE  # JSON is the escaping; the receiver decides the rest
    assert body["incident"]["incident_updates"][0]["body"] == HOSTILE_BODY


CUT_TEXT = "数据库维护中。" + "\U0001F469\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466" \
    + "\U0001F1E7\U0001F1EA" + "e\u0301" + "\U0001F44D\U0001F3FD" + "한국어&<|>~" + "\u2764\uFE0F"
"""CJK, a family (zero-width joiners), a flag, an accent, a skin tone, escapes, a variation
selector; no space, so the cut may fall anywhere."""


def with_body(snapshot: dict[str, Any], text: str) -> tuple[Event, dict[str, Any]]:
    """The lookup incident with `text` as its first update's body in every language (made by hand)."""
    changed = copy.deepcopy(snapshot)
    first = changed["incidents"][LOOKUP]["updates"][0]
    first["body"] = {lang: text for lang in first["body"]}
    return Event(f"{LOOKUP}/update/{first['id']}", "incident_created", LOOKUP, first["id"], ("dcc-lookup",)), changed


STYLES = {"slack": slack.STYLE, "discord": discord.STYLE, "mattermost": mattermost.STYLE,
          "googlechat": googlechat.STYLE}
PARTIAL_ESCAPE = {"slack": re.compile(r"&(?!amp;|lt;|gt;)"), "googlechat": re.compile(r"&(?!amp;|lt;|gt;)"),
                  "discord": re.compile(r"(?<!\\)(\\\\)*\\$"), "mattermost": re.compile(r"(?<!\\)(\\\\)*\\$"),
                  "teams": re.compile(r"(?!)")}


def cut_update(fmt: str, body: dict[str, Any], source: str, start: str) -> tuple[str, str]:
    """(what the target shows of the update before the ellipsis, the whole update as the
    target would write it): the text holding the update is the one with `start` in it."""
    text = next(t for t in strings(body) if start in t and "\u2026" in t)
    kept = text[text.index(start):text.index("\u2026", text.index(start))]
    style = STYLES.get(fmt)
    full = markdown_to_text(source, None, style) if style else defuse_plain(markdown_to_text(source, None))
    return kept, full.replace("\n", "<br>") if fmt == "googlechat" else full


def fitted(fmt: str, snapshot: dict[str, Any], source: str, theme: Theme, lang: str = "en") -> dict[str, Any]:
    event, changed = with_body(snapshot, source)
    (payload,) = payloads(fmt, event, context_of(changed, event), lang, theme, links_for(changed, event, lang), NOW)
    body = json.loads(payload.body)
    CHAT_VALIDATORS[fmt].validate(body)
    assert_within_limits(fmt, body)
    if LIMITS[fmt]:
        assert len(payload.body) <= LIMITS[fmt]
    return body


@pytest.mark.parametrize("fmt", CHAT)
def test_long_texts_are_cut_between_whole_characters_and_escapes(example_build: BuildResult, theme: Theme,
                                                                 fmt: str) -> None:
    snapshot = snapshot_of(example_build)
    last_characters = set()
    for padding in range(40):  # move the cut across every kind of character
        source = "x" * padding + CUT_TEXT * 400
        kept, full = cut_update(fmt, fitted(fmt, snapshot, source, theme), source, source[:padding + 3])
        kept = kept.rstrip()
        assert full.startswith(kept), (fmt, padding)
        clusters = regex.findall(r"\X", kept)
        assert clusters == regex.findall(r"\X", full)[:len(clusters)], (fmt, padding, kept[-12:])
        assert not PARTIAL_ESCAPE[fmt].search(kept), (fmt, padding, kept[-12:])
        last_characters.add(clusters[-1])
    assert len(last_characters) >= 4, last_characters  # the cut really landed on different characters


@pytest.mark.parametrize("fmt", CHAT)
def test_a_5000_character_update_is_shortened_at_a_word_to_fit_every_target(example_build: BuildResult,
                                                                            theme: Theme, fmt: str) -> None:
    snapshot = snapshot_of(example_build)
    source = ("The registry is slow & fragile < 1 > 0; we *keep* looking. " * 100)[:5000]
    body = fitted(fmt, snapshot, source, theme, "nl")
    if fmt == "teams":  # 28 KB hold it all
        assert defuse_plain(markdown_to_text(source, None)) in strings(body)
    else:
        kept, full = cut_update(fmt, body, source, "The registry")
        assert full.startswith(kept) and full[len(kept)] == " " and len(kept) > 1000, (fmt, kept[-30:])
    # The Statuspage body is never shortened: it is data, and the API has the whole text too.
    event, changed = with_body(snapshot, source)
    (incident, *_) = payloads("statuspage", event, context_of(changed, event), "nl", theme,
                              links_for(changed, event, "nl"), NOW)
    assert json.loads(incident.body)["incident"]["incident_updates"][-1]["body"] == source


# --- Which format a URL gets -------------------------------------------------------------------


@pytest.mark.parametrize(("url", "explicit", "expected"), [
    ("https://hooks.slack.com/services/T000/B000/XXXX", None, "slack"),
    ("https://HOOKS.SLACK.COM/services/T000/B000/XXXX", None, "slack"),
    ("https://hooks.slack.com.evil.example/services/T000", None, "statuspage"),
    ("https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=s", None, "teams"),
    ("https://default1234.56.environment.api.powerplatform.com/powerautomate/automations/direct/workflows/x", None,
     "teams"),
    ("https://flow.powerautomate.com/hooks/x", None, "teams"),
    ("https://evil-logic.azure.com/workflows/x", None, "statuspage"),
    ("https://chat.googleapis.com/v1/spaces/AAAA/messages?key=k&token=t", None, "googlechat"),
    ("https://discord.com/api/webhooks/123/token", None, "discord"),
    ("https://discordapp.com/api/v10/webhooks/123/token", None, "discord"),
    ("https://discord.com/channels/1/2", None, "statuspage"),
    ("https://chat.partner.example/hooks/abc123", None, "statuspage"),
    ("https://chat.partner.example/hooks/abc123", "mattermost", "mattermost"),
    ("https://desk.partner.example/statuspage", None, "statuspage"),
    ("https://desk.partner.example/in", "slack", "slack"),
    ("https://hooks.slack.com/services/T000/B000/XXXX", "statuspage", "statuspage"),
])
def test_the_format_comes_from_the_host_unless_given(url: str, explicit: str | None, expected: str) -> None:
    assert detect_format(url, explicit) == expected


def test_an_unknown_format_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValueError) as refused:
        detect_format("https://desk.partner.example/in", "msteams")
    assert str(refused.value) == ("format: expected one of statuspage, slack, teams, googlechat, discord, "
                                  "mattermost; found 'msteams'")


@pytest.mark.parametrize("url", [
    "https://contoso.webhook.office.com/webhookb2/1111@2222/IncomingWebhook/SECRET/3333",
    "https://outlook.office.com/webhook/1111@2222/IncomingWebhook/SECRET/3333",
    "https://outlook.office365.com/webhook/1111@2222/IncomingWebhook/SECRET/3333",
])
@pytest.mark.parametrize("explicit", [None, "teams"])
def test_retired_office_365_connectors_are_refused_saying_what_to_use(url: str, explicit: str | None) -> None:
    with pytest.raises(ValueError) as refused:
        detect_format(url, explicit)
    message = str(refused.value)
    assert "retired" in message and "no longer deliver" in message
    assert "Workflows webhook" in message and '"When a Teams webhook request is received"' in message
    assert "SECRET" not in message and "IncomingWebhook" not in message
