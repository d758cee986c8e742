"""``make run`` and ``make test``: the processes of a local install, started and stopped
together.

``serve`` (``bin/serve``, what ``make run`` runs) starts the embedded PostgreSQL and Redis
unless ``DATABASE_URL`` / ``REDIS_URL`` name servers, migrates, loads the demo
(``seed_demo``, idempotent), then runs the production process layout — the web process,
one Celery worker and one beat — with their output prefixed by name, until Ctrl-C (or
SIGTERM, or one of them dying). It then stops the web, worker and beat, then Redis, then
PostgreSQL, and exits. ``HOST`` and ``PORT`` choose where the web listens.

``with_services`` (``bin/with-services COMMAND…``, what ``make test`` runs) runs COMMAND
with the machine's PostgreSQL and Redis when they answer on 127.0.0.1:5432 and :6379, and
with embedded ones (under ``DATA_DIR/test``) otherwise.
"""

from __future__ import annotations

import fcntl
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from . import embedded

ROOT = embedded.BASE_DIR
COLOURS = ["\033[36m", "\033[33m", "\033[35m", "\033[32m"]
RESET = "\033[0m"


class Stopping(Exception):
    """A stop was asked for (Ctrl-C, SIGTERM, SIGHUP); ``signal`` says which."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signal = signum


class _Signals:
    """SIGINT, SIGTERM and SIGHUP raise ``Stopping`` (once); while stopping, another one
    only asks to hurry (stop without waiting for anyone to finish)."""

    def __init__(self):
        self.count = 0
        self.armed = True
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._handle)

    def _handle(self, signum, _frame):
        self.count += 1
        if self.armed:
            self.armed = False
            raise Stopping(signum)

    def disarm(self) -> None:
        self.armed = False

    def check_parent(self) -> None:
        """Raise ``Stopping`` if GNU make, our parent, was sent SIGINT by itself.

        A Ctrl-C in the terminal reaches every process of the foreground group, this one
        included. ``kill -INT <make>`` reaches make alone, which forwards only SIGTERM to
        its recipe: on SIGINT it waits for the recipe to end, with SIGINT blocked while
        its handler runs. That block is what is looked for (Linux)."""
        if not self.armed:
            return
        try:
            status = Path(f"/proc/{os.getppid()}/status").read_text()
        except OSError:
            return
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        if fields.get("Name", "").strip() not in ("make", "gmake"):
            return
        blocked = int(fields.get("SigBlk", "0").strip() or "0", 16)
        if blocked & (1 << (signal.SIGINT - 1)):
            self.armed = False
            raise Stopping(signal.SIGINT)

    @property
    def hurry(self) -> bool:
        return self.count > 1


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _lock(data: Path):
    """Hold ``DATA_DIR/.lock`` while running: one ``make run`` per data folder."""
    data.mkdir(parents=True, exist_ok=True)
    handle = open(data / ".lock", "a+")  # noqa: SIM115 - held until the process ends
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "?"
        raise embedded.EmbeddedError(
            f"Another `make run` or `make test` (pid {holder}) is using {data}. Stop it "
            "first, or give this one its own folder with DATA_DIR=…") from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


class Services:
    """The embedded servers started for this run (none when the URLs name servers)."""

    def __init__(self, data: Path, *, durable: bool = True):
        self.data = data
        self.durable = durable
        self.postgres: embedded.EmbeddedPostgres | None = None
        self.redis: embedded.EmbeddedRedis | None = None

    def start_postgres(self, database: str | None = embedded.DATABASE) -> str:
        say(f"Starting the embedded PostgreSQL ({self.data / 'postgres'}) …")
        self.postgres = embedded.EmbeddedPostgres(
            self.data / "postgres", log=self.data / "log" / "postgres.log",
            durable=self.durable)
        self.postgres.start()
        if database:
            self.postgres.create_database(database)
        return self.postgres.url(database or embedded.DATABASE)

    def start_redis(self, db: int = 0) -> str:
        say(f"Starting the embedded Redis ({self.data / 'redis'}) …")
        self.redis = embedded.EmbeddedRedis(self.data / "redis",
                                            log=self.data / "log" / "redis.log")
        self.redis.start()
        return self.redis.url(db)

    def stop(self) -> None:
        if self.redis is not None:
            self.redis.stop()
            self.redis = None
        if self.postgres is not None:
            self.postgres.stop()
            self.postgres = None


def say(message: str) -> None:
    print(f"leadpool: {message}", flush=True)


def _child_env(extra: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, **extra, "PYTHONUNBUFFERED": "1"}
    env.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings.local")
    return env


def _step(command: list[str], env: dict, signals: _Signals) -> None:
    """Run a preparation step (migrate, seed_demo) in the foreground, its output as is."""
    process = embedded.spawn(command, cwd=ROOT, env=env)
    try:
        while (code := process.poll()) is None:
            signals.check_parent()
            time.sleep(0.2)
    except Stopping:
        embedded.stop_process(process, signal.SIGTERM, timeout=5)
        raise
    if code != 0:
        raise embedded.EmbeddedError(f"`{' '.join(command[1:])}` failed (exit code {code}).")


class _Children:
    """The web, worker and beat processes; their output is read on one thread (this one)
    and printed line by line, prefixed with the process's name."""

    def __init__(self):
        self.processes: dict[str, subprocess.Popen] = {}
        self.selector = selectors.DefaultSelector()
        self.buffers: dict[str, bytes] = {}
        self.width = 6
        self.colour = sys.stdout.isatty()

    def start(self, name: str, command: list[str], env: dict) -> None:
        process = embedded.spawn(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT)
        os.set_blocking(process.stdout.fileno(), False)
        self.processes[name] = process
        self.buffers[name] = b""
        self.selector.register(process.stdout, selectors.EVENT_READ, name)

    def _print(self, name: str, line: bytes) -> None:
        index = list(self.processes).index(name)
        label = name.ljust(self.width)
        if self.colour:
            label = f"{COLOURS[index % len(COLOURS)]}{label}{RESET}"
        sys.stdout.write(f"{label} | {line.decode(errors='replace').rstrip()}\n")

    def pump(self, timeout: float) -> None:
        """Print what the children wrote, waiting up to ``timeout`` seconds for it."""
        for key, _events in self.selector.select(timeout):
            name = key.data
            try:
                chunk = key.fileobj.read()
            except (BlockingIOError, ValueError):
                continue
            if chunk is None:  # nothing to read after all
                continue
            if not chunk:
                self.selector.unregister(key.fileobj)
                chunk = b"\n" if self.buffers[name] else b""
            *lines, self.buffers[name] = (self.buffers[name] + chunk).split(b"\n")
            for line in lines:
                self._print(name, line)
        sys.stdout.flush()

    def exited(self) -> str | None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                return name
        return None

    def stop(self, signals: _Signals) -> None:
        """SIGTERM to each (a worker finishes its running tasks), SIGKILL after 15 s or at
        a second Ctrl-C."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not signals.hurry and any(
                p.poll() is None for p in self.processes.values()):
            self.pump(0.2)
        for process in self.processes.values():
            embedded.stop_process(process, signal.SIGTERM, timeout=0)
        self.pump(0)


def _ready(url: str, process: subprocess.Popen, children: _Children, signals: _Signals,
           timeout: float) -> bool:
    """Wait until the web answers ``/health/`` (database and Redis reached)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        signals.check_parent()
        try:
            with opener.open(url + "health/", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        children.pump(0.5)
    return False


def serve() -> int:
    """``make run``."""
    signals = _Signals()
    host = os.environ.get("HOST") or "127.0.0.1"
    try:
        port = int(os.environ.get("PORT") or 8000)
    except ValueError:
        print(f"leadpool: PORT must be a number, not {os.environ['PORT']!r}.", file=sys.stderr)
        return 2
    url = embedded.web_url(host, port)
    data = embedded.data_dir()
    services = Services(data)
    children = _Children()
    failed = False
    try:
        if not _port_free(host, port):
            raise embedded.EmbeddedError(
                f"{host}:{port} is already in use. Choose another port, e.g. "
                f"PORT={port + 1} make run.")
        lock = _lock(data)  # noqa: F841 - held until the process ends
        extra = {"HOST": host, "PORT": str(port), "DATA_DIR": str(data)}
        if os.environ.get("DATABASE_URL"):
            say("DATABASE_URL is set: using that PostgreSQL.")
        else:
            extra["DATABASE_URL"] = services.start_postgres()
        if os.environ.get("REDIS_URL"):
            say("REDIS_URL is set: using that Redis.")
        else:
            extra["REDIS_URL"] = services.start_redis()
        env = _child_env(extra)
        python, manage = sys.executable, str(ROOT / "manage.py")
        say("Migrating …")
        _step([python, manage, "migrate", "--noinput", "-v0"], env, signals)
        _step([python, manage, "seed_demo"], env, signals)
        addrport = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        children.start("web", [python, manage, "runserver", addrport, "--noreload"], env)
        children.start("worker", [python, "-m", "celery", "-A", "crm_site", "worker",
                                  "--loglevel=INFO", "--concurrency=2"], env)
        children.start("beat", [python, "-m", "celery", "-A", "crm_site", "beat",
                                "--loglevel=INFO", f"--schedule={data / 'celerybeat-schedule'}"],
                       env)
        if _ready(url, children.processes["web"], children, signals, timeout=60):
            say(f"LeadPool CRM is ready at {url} (web, worker and beat running). "
                "Ctrl-C stops everything.")
        while True:
            children.pump(0.5)
            signals.check_parent()
            gone = children.exited()
            if gone:
                failed = True
                say(f"the {gone} process exited (code {children.processes[gone].returncode});"
                    " stopping everything.")
                break
    except Stopping:
        print()
        say("stopping …")
    except embedded.EmbeddedError as exc:
        failed = True
        sys.stdout.flush()
        print(f"leadpool: {exc}", file=sys.stderr, flush=True)
    finally:
        signals.disarm()
        started = bool(children.processes) or services.postgres or services.redis
        children.stop(signals)
        services.stop()
    if started:
        say("everything it started has stopped.")
    return 1 if failed else 0


def with_services(command: list[str]) -> int:
    """``make test``: run ``command`` with PostgreSQL and Redis reachable."""
    if not command:
        print("usage: bin/with-services COMMAND [ARG …]", file=sys.stderr)
        return 2
    signals = _Signals()
    data = embedded.data_dir() / "test"
    services = Services(data, durable=False)
    extra: dict[str, str] = {}
    lock = None
    try:
        need_postgres = not os.environ.get("DATABASE_URL") and not _answers("127.0.0.1", 5432)
        need_redis = not os.environ.get("REDIS_URL") and not _answers("127.0.0.1", 6379)
        if need_postgres or need_redis:
            lock = _lock(data)  # noqa: F841 - held until the process ends
        if need_postgres:
            print("No PostgreSQL on 127.0.0.1:5432: the tests use an embedded one.")
            extra["DATABASE_URL"] = services.start_postgres(database=None)
        if need_redis:
            print("No Redis on 127.0.0.1:6379: the tests use an embedded one.")
            extra["REDIS_URL"] = services.start_redis(db=15)
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **extra})
        try:
            return process.wait()
        except Stopping as stop:
            signals.disarm()
            # A Ctrl-C in the terminal reached the command too: let it finish its teardown.
            if stop.signal != signal.SIGINT:
                process.send_signal(stop.signal)
            embedded.stop_process(process, signal.SIGTERM, timeout=30)
            return 128 + stop.signal
    except Stopping as stop:
        return 128 + stop.signal
    except embedded.EmbeddedError as exc:
        print(f"bin/with-services: {exc}", file=sys.stderr)
        return 1
    finally:
        signals.disarm()
        services.stop()
