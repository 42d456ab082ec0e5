"""The Celery app: JSON only, time limits, and a beat schedule that names real tasks."""

from __future__ import annotations

from portal.celery import app


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()
    schedule = app.conf.beat_schedule

    assert "appointments.tasks.release_expired_holds" in {e["task"] for e in schedule.values()}
    for name, entry in schedule.items():
        assert entry["task"] in app.tasks, name


def test_tasks_speak_json_and_cannot_run_forever():
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_time_limit and app.conf.task_soft_time_limit < app.conf.task_time_limit
