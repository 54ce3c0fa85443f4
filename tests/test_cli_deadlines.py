"""`roadmap sweep`, `escalations`, `acknowledge`, `extend`, `policy`, `send-mail`, `serve`."""

from __future__ import annotations

import json
import logging

import pytest


@pytest.fixture
def roadmap(roadmap, monkeypatch):
    """The shared runner, with the demo of September 2023, no Redis and no SMTP."""
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # nobody listens: embedded
    monkeypatch.delenv("SMTP_HOST", raising=False)
    assert roadmap("demo", "--today", "2023-09-10")[0] == 0
    return roadmap


def test_sweep_prints_json_and_zero_the_second_time(roadmap) -> None:
    code, out, _ = roadmap("sweep", "--now", "2023-10-02T09:00:00+03:00", "--json")
    first = json.loads(out)
    # 30 September has passed: open items due then are overdue at level 1, no further yet
    assert code == 0 and first["overdue"] == first["escalations"]["1"] > 0
    assert first["escalations"]["2"] == first["escalations"]["3"] == 0
    code, out, _ = roadmap("sweep", "--now", "2023-10-02T09:00:00+03:00", "--json")
    assert json.loads(out) == {
        "reminders": 0,
        "overdue": 0,
        "escalations": {"1": 0, "2": 0, "3": 0},
        "review_escalations": 0,
    }
    assert roadmap("sweep", "--now", "yesterday")[0] == 2


def test_escalations_acknowledge_and_extend(roadmap) -> None:
    roadmap("sweep", "--now", "2023-10-10T09:00:00+03:00")  # level 2, not yet 3
    code, out, _ = roadmap("escalations", "--municipality", "ершич", "--level", "2")
    rows = out.strip().splitlines()
    assert code == 0 and rows and all(" L2 " in row for row in rows)
    escalation_id, occurrence_id = rows[0].split()[0], rows[0].split()[5]
    code, _, err = roadmap("acknowledge", escalation_id, "--as", "school1", "--comment", "ок")
    assert code == 3 and "only coordinators" in err
    code, out, _ = roadmap(
        "acknowledge", escalation_id, "--as", "coordinator", "--comment", "Школа на карантине"
    )
    assert code == 0
    code, out, _ = roadmap("escalations", "--level", "2")
    assert escalation_id not in [row.split()[0] for row in out.strip().splitlines()]
    code, _, err = roadmap(
        "extend", occurrence_id, "2023-11-15", "--as", "coordinator", "--reason", ""
    )
    assert code == 1 and "requires a reason" in err
    code, out, _ = roadmap(
        "extend", occurrence_id, "2023-11-15", "--as", "coordinator", "--reason", "Карантин"
    )
    assert code == 0 and "2023-11-15" in out
    code, out, _ = roadmap("history", occurrence_id)
    assert "acknowledge" in out and "extend" in out and "Карантин" in out


def test_policy_set_and_show(roadmap) -> None:
    code, out, _ = roadmap("policy", "set", "--municipality", "Ершич", "--reminder-days", "5")
    assert code == 0 and json.loads(out)["reminder_days"] == 5
    code, out, _ = roadmap("policy", "show", "--municipality", "ершичский")
    shown = {p["workflow"]: p for p in json.loads(out)}
    assert shown["activity"]["reminder_days"] == 5
    code, out, _ = roadmap("policy", "show")
    assert {p["workflow"]: p for p in json.loads(out)}["activity"]["reminder_days"] == 3
    code, _, err = roadmap("policy", "set", "--municipality", "Ершич", "--review-days", "99")
    assert code == 1 and "between 0 and 60" in err
    assert roadmap("policy", "set", "--municipality", "Ершич")[0] == 2


def test_serve_once_without_redis_runs_the_jobs_in_process(roadmap, caplog) -> None:
    caplog.set_level(logging.INFO, logger="worker.jobs")
    code, out, _ = roadmap("serve", "--once")
    counts = json.loads(out)
    assert code == 0 and counts["escalations"]["3"] > 0  # the demo year is long past
    code, out, _ = roadmap("send-mail")
    assert (code, out.strip()) == (0, "sent 0")
    assert "SMTP is not configured" in caplog.text


def test_calendar_overrides_move_escalations(roadmap) -> None:
    code, out, _ = roadmap("calendar", "show", "2023-10-02", "--days", "2")
    assert out.splitlines() == ["2023-10-02 Mon  рабочий", "2023-10-03 Tue  рабочий"]
    code, out, _ = roadmap("calendar", "set", "2023-10-02", "--day-off", "--note", "приказ №5")
    assert code == 0
    code, out, _ = roadmap("calendar", "show", "2023-10-01", "--days", "2")
    assert out.splitlines() == ["2023-10-01 Sun  выходной", "2023-10-02 Mon  выходной"]
    # due 30 September + 5 working days: Friday 6 October, moved to Monday 9 October
    code, out, _ = roadmap("sweep", "--now", "2023-10-09T09:00:00+03:00", "--json")
    assert json.loads(out)["escalations"]["2"] == 0
    code, out, _ = roadmap("sweep", "--now", "2023-10-10T09:00:00+03:00", "--json")
    assert json.loads(out)["escalations"]["2"] > 0
