from datetime import UTC, datetime

import pytest

from deskpulse.account_config import ConfigFileError, example, load
from schemas.events import ConfigUpdated
from streams.core.calendars import calendar_for, sla_calendar_for
from streams.core.config_store import ConfigStore


def test_shipped_examples_are_valid_and_realistic():
    acme = example("acme")
    assert acme.timezone == "Europe/Stockholm" and acme.sla.by == "priority"
    assert acme.sla.target_for({"priority": "urgent"}).first_response == 15
    assert acme.sla.target_for({"priority": "low"}) is None  # switched off
    assert acme.sla.target_for({"priority": "medium"}).time_to_close == 3 * 1440
    # support's own calendar applies to its tickets; others fall back to the default
    assert calendar_for(acme, "support").weekly[5] == ((600, 840),)
    assert calendar_for(acme, "billing").weekly[0] == ((480, 720), (780, 1080))
    globex = example("globex")
    assert sla_calendar_for(globex, "tier1").always and globex.sla.target_for({}).due_soon == 30


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("account_id: a\ntimezone: Mars/Base", "timezone: unknown time zone 'Mars/Base'"),
        ("account_id: a\ncalendars: {c: {hours: {mon: ['9-5']}}}", "calendars.c.hours.mon: '9-5' is not a range"),
        ("account_id: a\ncalendars: {c: {hours: {funday: []}}}", "calendars.c.hours.funday.[key]"),
        ("account_id: a\nsla: {all: {first_response: soon}}", "sla.all.first_response: 'soon' is not a duration"),
        ("account_id: a\nsla: {hours: '24/7', all: {first_response: 10m, due_soon: 20m}}", "due_soon (20 min)"),
        ("account_id: a\nsla: {hours: '24/7', by: colour, targets: {}}", "sla.by"),
        ("account_id: a\nteams: {t: {calendar: nope}}", "teams.t.calendar: unknown calendar 'nope'"),
        ("account_id: a\nsla: {all: {first_response: 1h}}", "no calendar is set"),
        ("account_id: a\npipelines: [{id: p, stages: [{id: open}]}]", "has no closed stage"),
        ("timezone: UTC", "account_id: required"),
        ("account_id: a\nsurprise: 1", "surprise: Extra inputs are not permitted"),
        ("- a\n- b", "must hold a mapping"),
        ("account_id: [", "not valid YAML"),
    ],
)
def test_bad_files_name_the_field(text, problem):
    with pytest.raises(ConfigFileError) as caught:
        load(text, "f.yaml")
    assert any(problem in p for p in caught.value.problems), caught.value.problems
    assert str(caught.value).startswith("f.yaml: ") and "\n" not in str(caught.value)


def test_durations_read_like_people_write_them():
    config = load("account_id: a\nsla: {hours: '24/7', all: {first_response: 1h30m, next_response: 2d, "
                  "time_to_close: 90, due_soon: 10m}}")
    target = config.sla.target_for({})
    assert (target.first_response, target.next_response, target.time_to_close, target.due_soon) == (90, 2880, 90, 10)


def test_the_store_keeps_the_newest_valid_document_per_account():
    store = ConfigStore()

    def event(event_id, hour, document):
        return ConfigUpdated(event_id=event_id, type="config.updated", account_id="acme",
                             occurred_at=datetime(2026, 11, 2, hour, tzinfo=UTC), config=document)

    closed_done = {"pipelines": [{"id": "support", "stages": [{"id": "open"}, {"id": "done", "closed": True}]}]}
    assert store.is_closed_stage("acme", "support", "closed")  # defaults
    assert store.apply(event("c2", 10, closed_done))
    assert store.is_closed_stage("acme", "support", "done") and not store.is_closed_stage("acme", "support", "closed")
    assert not store.apply(event("c1", 9, {"timezone": "UTC"}))  # older: ignored
    assert not store.apply(event("c3", 11, {"timezone": "Nowhere/Land"}))  # invalid: kept out, noted
    assert store.applied("acme") == "c2" and store.rejected[-1][0] == "acme"


def test_sla_targets_follow_the_configuration_in_force():
    """The targets of a ticket are kept per configured target: a new configuration's are the ones answered."""
    store = ConfigStore()

    def event(event_id, hour, first_response):
        return ConfigUpdated(event_id=event_id, type="config.updated", account_id="acme",
                             occurred_at=datetime(2026, 11, 2, hour, tzinfo=UTC),
                             config={"sla": {"hours": "24/7", "by": "priority", "targets": {
                                 "urgent": {"first_response": first_response}, "low": {"first_response": 600}}}})

    assert store.sla_targets("acme", {"priority": "urgent"}) is None  # defaults: no SLA
    assert store.apply(event("c1", 9, 30))
    first = store.sla_targets("acme", {"priority": "urgent"})
    assert first is not None and first.first_response == 1800.0
    assert store.sla_targets("acme", {"priority": "urgent"}) is first  # kept, not built per ticket
    assert store.sla_targets("acme", {"priority": "low"}).first_response == 36000.0
    assert store.sla_targets("acme", {"priority": "medium"}) is None
    assert store.apply(event("c2", 10, 15))
    assert store.sla_targets("acme", {"priority": "urgent"}).first_response == 900.0


def test_every_problem_of_a_file_at_once_with_its_line():
    """Issue 11: a broken file took five rounds (the YAML parser stopped at 2026-02-30 with no file or field)."""
    text = "\n".join([
        "account_id: broken",                     # 1
        "timezone: Mars/Base",                    # 2
        "calendars:",                             # 3
        "  weekdays:",                            # 4
        "    hours:",                             # 5
        "      mon: ['09:00-25:00']",             # 6
        "      fnd: ['09:00-17:00']",             # 7
        "    holidays: [2026-02-30, 2026-12-25]",  # 8
        "pipelines:",                             # 9
        "  - id: support",                        # 10
        "    stages:",                            # 11
        "      - {id: closed, closed: maybe}",    # 12
    ])
    with pytest.raises(ConfigFileError) as caught:
        load(text, "f.yaml")
    problems = caught.value.problems
    assert [p.split(":", 1)[0] for p in problems] == ["line 2", "line 6", "line 7", "line 8", "line 12"], problems
    assert "calendars.weekdays.holidays.0" in problems[3]


def test_a_yaml_syntax_error_names_its_line():
    with pytest.raises(ConfigFileError) as caught:
        load("account_id: x\ntimezone: UTC\nsla: {hours: [24/7\n", "f.yaml")
    assert caught.value.problems[0].startswith("line 4: not valid YAML")
