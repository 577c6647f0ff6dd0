"""Read the demo site's environment variables, failing with one clear line.

A malformed ``DATABASE_URL`` or ``REDIS_URL`` stops start-up with a
``SystemExit`` whose message names the variable, instead of a traceback deep
inside a database or Redis driver.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class EnvError(SystemExit):
    """Raised for a malformed environment variable; its message is one line."""

    def __init__(self, variable: str, problem: str, example: str) -> None:
        super().__init__(f"error: {variable} {problem} (expected something like {example})")


def flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise EnvError(name, f"is {raw!r}, not a boolean", "1 or 0")


def _check_port(variable: str, url: str, example: str) -> Any:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise EnvError(variable, f"is not a valid URL ({exc})", example) from None
    return parts


#: the web server and the worker's pool processes write to one SQLite file (idempotency
#: marks, the outbox): a write transaction takes the lock up front and waits for it,
#: instead of failing with "database is locked" when it upgrades a read
SQLITE: dict[str, Any] = {"OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20}}


def database_from_env(base_dir: Path) -> dict[str, Any]:
    """``DATABASES['default']`` from ``DATABASE_URL`` (SQLite file when unset)."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        var_dir = Path(os.environ.get("PERFSUITE_VAR_DIR") or base_dir / "var")
        var_dir.mkdir(parents=True, exist_ok=True)  # a fresh clone has no var/
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": var_dir / "db.sqlite3", **SQLITE}
    example = "postgres://user:password@127.0.0.1:5432/perfsuite"
    parts = _check_port("DATABASE_URL", url, example)
    if parts.scheme in ("postgres", "postgresql", "pgsql"):
        if not parts.hostname:
            raise EnvError("DATABASE_URL", "has no host name", example)
        if not parts.path.strip("/"):
            raise EnvError("DATABASE_URL", "has no database name", example)
        import dj_database_url

        config = dj_database_url.parse(url, conn_max_age=0)
        config["ENGINE"] = "django.db.backends.postgresql"
        options = config.setdefault("OPTIONS", {})
        # Django's own psycopg 3 pool: one pool per process, reused connections.
        options.setdefault(
            "pool",
            {
                "min_size": 1,
                "max_size": int(os.environ.get("DATABASE_POOL_MAX", "10") or 10),
                "timeout": 10,
            },
        )
        return dict(config)
    if parts.scheme == "sqlite":
        name = url[len("sqlite://") :]
        if name.startswith("/"):  # sqlite:///relative.db, sqlite:////abs/path.db
            name = name[1:]
        if not name:
            raise EnvError("DATABASE_URL", "names no SQLite file", "sqlite:////abs/path/db.sqlite3")
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": name, **SQLITE}
    raise EnvError(
        "DATABASE_URL",
        f"has the unsupported scheme {parts.scheme or '(none)'!r}",
        example,
    )


def redis_url_from_env() -> str | None:
    url = os.environ.get("REDIS_URL", "").strip()
    if not url:
        return None
    example = "redis://127.0.0.1:6379/0"
    parts = _check_port("REDIS_URL", url, example)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise EnvError(
            "REDIS_URL", f"has the unsupported scheme {parts.scheme or '(none)'!r}", example
        )
    if parts.scheme != "unix" and not parts.hostname:
        raise EnvError("REDIS_URL", "has no host name", example)
    db = parts.path.strip("/")
    if db and not db.isdigit():
        raise EnvError("REDIS_URL", f"names the database {db!r}, not a number", example)
    return url
