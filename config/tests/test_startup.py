"""What `make run` does before it starts the processes (devstack/processes.py)."""

from __future__ import annotations

import os
import stat

import pytest
from django.contrib.auth import get_user_model

from config.tests import servers
from devstack import processes, services
from tutor.models import Exercise


@pytest.fixture
def password_file(tmp_path, monkeypatch):
    path = tmp_path / "admin-password"
    monkeypatch.setattr(processes, "ADMIN_PASSWORD_FILE", path)
    return path


def test_demo_admin_password_is_random_per_data_folder_and_kept(password_file):
    first, fresh = processes.demo_admin_password({})
    again, fresh_again = processes.demo_admin_password({})

    assert (fresh, fresh_again) == (True, False)
    assert again == first
    assert len(first) >= 16
    assert first != "admin"
    assert stat.S_IMODE(os.stat(password_file).st_mode) == 0o600


def test_demo_admin_password_from_the_environment_wins(password_file):
    password, fresh = processes.demo_admin_password({"DJANGO_SUPERUSER_PASSWORD": "given"})

    assert (password, fresh) == ("given", True)
    assert not password_file.exists()


def test_make_run_binds_to_loopback_unless_host_says_otherwise(monkeypatch, tmp_path):
    monkeypatch.setattr(services, "DATA", tmp_path)  # run_env resets the metrics folder there
    stack = services.Stack(database_url="postgres://x/y", redis_url="redis://x/0")
    monkeypatch.delenv("HOST", raising=False)
    local = processes.run_env(stack)
    monkeypatch.setenv("HOST", "0.0.0.0")
    public = processes.run_env(stack)

    web = processes.process_table({**local, "WS_FD": "3"})["web"]

    assert web[web.index("--bind") + 1] == f"127.0.0.1:{local['PORT']}"
    assert (local["HOST"], public["HOST"]) == ("127.0.0.1", "0.0.0.0")
    assert processes.bind_address("::1", 8000) == "[::1]:8000"


def test_web_runs_threaded_workers_sized_by_environment():
    env = {"HOST": "127.0.0.1", "PORT": "8000", "WS_FD": "3"}

    default = processes.process_table(env)["web"]
    tuned = processes.process_table({**env, "WEB_THREADS": "8"})["web"]

    assert default[default.index("--worker-class") + 1] == "gthread"
    assert default[default.index("--threads") + 1] == "4"
    assert tuned[tuned.index("--threads") + 1] == "8"


def test_websocket_listener_binds_to_host():
    env = {"HOST": "127.0.0.1", "WS_PORT": str(servers.free_port())}

    with processes.ws_listen(env) as listener:
        assert listener.getsockname()[0] == "127.0.0.1"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_startup_preparation_keeps_an_exercise_edited_in_the_admin(password_file, monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    env = servers.app_env(DATABASE_URL=servers.current_database_url())
    processes.prepare(env)
    exercise = Exercise.objects.order_by("pk").first()
    Exercise.objects.filter(pk=exercise.pk).update(title="Edited in the admin")

    processes.prepare(env)  # the next `make run`

    assert Exercise.objects.get(pk=exercise.pk).title == "Edited in the admin"
    admin = get_user_model().objects.get(username="admin")
    assert admin.check_password(password_file.read_text().strip())
    assert not admin.check_password("admin")
