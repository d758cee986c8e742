"""The embedded PostgreSQL and Redis of ``make run`` / ``make test``, and the settings'
PostgreSQL-only rule.

The servers here are real (the wheels' binaries), each in a temporary data folder.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil
import psycopg2
import pytest
import redis

from crm_site.lib import embedded

ROOT = Path(__file__).resolve().parents[2]
PRINT_SETTINGS = (
    "import django; django.setup(); from django.conf import settings as s; "
    "from crm_site.celery import app; c = app.conf; d = s.DATABASES['default']; "
    "print(d['ENGINE'], d['HOST'], d['NAME'], s.REDIS_URL, c.broker_url, "
    "c.result_backend, c.task_always_eager)"
)


def _manage_env(**values: str | None) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "DATA_DIR", "DJANGO_SETTINGS_MODULE")}
    env["DJANGO_SETTINGS_MODULE"] = "crm_site.settings.local"
    env.update({k: v for k, v in values.items() if v is not None})
    return env


@pytest.mark.parametrize("url", ["sqlite:///db.sqlite3", "mysql://root@127.0.0.1/leadpool"])
def test_settings_refuse_a_database_other_than_postgresql(url):
    proc = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT,
                          env=_manage_env(DATABASE_URL=url), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode != 0
    assert "DATABASE_URL must name a PostgreSQL database" in proc.stderr
    assert "runs on PostgreSQL only" in proc.stderr


def test_without_urls_the_settings_point_at_the_embedded_servers(tmp_path):
    proc = subprocess.run([sys.executable, "-c", PRINT_SETTINGS], cwd=ROOT,
                          env=_manage_env(DATA_DIR=str(tmp_path)), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    engine, host, name, redis_url, broker, backend, eager = proc.stdout.split()
    assert (engine, host, name) == ("django.db.backends.postgresql",
                                    str(tmp_path / "postgres"), "leadpool")
    socket = tmp_path / "redis" / "redis.sock"
    assert redis_url == f"unix://{socket}?db=0"
    assert broker == backend == f"redis+socket://{socket}?virtual_host=0"
    assert eager == "False"  # tasks go to the worker: nothing runs in-process


def test_named_servers_are_used_as_they_are():
    proc = subprocess.run([sys.executable, "-c", PRINT_SETTINGS], cwd=ROOT,
                          env=_manage_env(DATABASE_URL="postgres://u@db.example:5433/crm",
                                          REDIS_URL="redis://cache.example:6379/3"),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    _engine, host, name, redis_url, broker, backend, _eager = proc.stdout.split()
    assert (host, name) == ("db.example", "crm")
    assert redis_url == broker == backend == "redis://cache.example:6379/3"


def test_urls_for_a_long_folder_use_a_short_socket_folder():
    deep = Path("/tmp") / ("x" * 120)
    folder = embedded.socket_dir(deep / "postgres")
    assert folder != deep / "postgres"
    assert len(str(folder / ".s.PGSQL.5432")) < 100
    assert folder == embedded.socket_dir(deep / "postgres")  # the same every time


@pytest.mark.parametrize(("host", "port", "url"), [
    ("127.0.0.1", 8000, "http://127.0.0.1:8000/"),
    ("0.0.0.0", 8123, "http://127.0.0.1:8123/"),
    ("::", "9000", "http://[::1]:9000/"),
    ("crm.local", 80, "http://crm.local:80/"),
])
def test_web_url(host, port, url):
    assert embedded.web_url(host, port) == url


@pytest.fixture
def server_folder() -> Path:
    # Not under pytest's own temporary folder, which only root may pass through: under
    # root the server runs as another user.
    folder = Path(tempfile.mkdtemp(prefix="leadpool-embedded-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_postgres_starts_runs_unprivileged_and_stops(server_folder):
    server = embedded.EmbeddedPostgres(server_folder / "postgres",
                                       log=server_folder / "postgres.log", durable=False)
    server.start()
    try:
        assert server.create_database("crm") is True
        assert server.create_database("crm") is False
        connection = psycopg2.connect(server.url("crm"))
        with connection, connection.cursor() as cursor:
            cursor.execute("SHOW server_version_num")
            assert int(cursor.fetchone()[0]) >= 180000
            cursor.execute("SHOW listen_addresses")
            assert cursor.fetchone()[0] == ""  # the socket only
        connection.close()
        owner = psutil.Process(server.process.pid).username()
        if os.geteuid() == 0:
            assert owner == embedded.POSTGRES_USER
        pid = server.process.pid
    finally:
        server.stop()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not (server_folder / "postgres" / "postmaster.pid").exists()


def test_postgres_recovers_from_a_stale_pid_file_and_a_left_over_server(server_folder):
    folder = server_folder / "postgres"
    first = embedded.EmbeddedPostgres(folder, log=server_folder / "pg.log", durable=False)
    first.start()
    first.create_database("kept")
    left_over = first.process
    first.process = None  # as if its launcher had crashed without stopping it

    second = embedded.EmbeddedPostgres(folder, log=server_folder / "pg.log", durable=False)
    try:
        second.start()
        assert left_over.wait(30) is not None  # stopped, not left beside the new one
        assert second.create_database("kept") is False  # same cluster, data kept
    finally:
        second.stop()
        embedded.stop_process(left_over, signal.SIGINT)

    # A crash leaves postmaster.pid naming a process that is no PostgreSQL (or none).
    (folder / "postmaster.pid").write_text(f"{os.getpid()}\n{folder}\n")
    third = embedded.EmbeddedPostgres(folder, log=server_folder / "pg.log", durable=False)
    third.start()
    try:
        assert third.create_database("kept") is False
    finally:
        third.stop()


def test_redis_starts_on_its_socket_and_replaces_a_left_over_one(server_folder):
    first = embedded.EmbeddedRedis(server_folder / "redis", log=server_folder / "redis.log")
    first.start()
    left_over = first.process
    first.process = None
    second = embedded.EmbeddedRedis(server_folder / "redis", log=server_folder / "redis.log")
    try:
        second.start()
        assert left_over.wait(30) is not None
        client = redis.Redis.from_url(second.url(3))
        client.set("k", "v")
        assert client.get("k") == b"v"
    finally:
        second.stop()
        embedded.stop_process(left_over)


def test_a_server_dies_with_the_process_that_started_it(server_folder):
    script = (
        "import sys, time; sys.path.insert(0, sys.argv[1]); from pathlib import Path; "
        "from crm_site.lib import embedded; f = Path(sys.argv[2]); "
        "s = embedded.EmbeddedRedis(f / 'redis', log=f / 'redis.log'); s.start(); "
        "print(s.process.pid, flush=True); time.sleep(120)")
    launcher = subprocess.Popen([sys.executable, "-c", script, str(ROOT), str(server_folder)],
                                stdout=subprocess.PIPE, text=True)
    try:
        server = psutil.Process(int(launcher.stdout.readline()))
        assert server.is_running()
        launcher.send_signal(signal.SIGKILL)  # no chance to clean up
        launcher.wait(10)
        server.wait(10)  # ends with its parent (raises TimeoutExpired if it does not)
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
