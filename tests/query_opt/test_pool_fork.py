"""A pool open when a process forks (a preloaded gunicorn master): the child drops what it
inherited and opens its own connection, never the parent's socket; check W302 says so
in the child, the parent logs it.

In a process of its own (the demo site on a PostgreSQL ``DATABASE_URL``, pooled by
project/env.py), so the test run itself never forks with a pool open.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import demo_env, run_python
from tests.services import PostgresServer

SCRIPT = r"""
import json, os
import django
django.setup()
from django.core.checks import run_checks
from django.db import connection

def backend():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]

def w302():
    return [m.msg for m in run_checks() if m.id == "perfsuite.W302"]

def in_child(work):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            result = work()
        except Exception as exc:
            result = {"error": repr(exc)}
        os.write(write, json.dumps(result).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        return json.loads(pipe.read())

out = {"before": w302()}
# A fork before any pool is open: nothing to say, in the parent or the child.
out["child_without_pool"] = in_child(lambda: {"w302": w302(), "backend": backend()})
out["parent_after_plain_fork"] = w302()
connection.close()

parent = backend()  # opens the pool; this thread holds a connection from it
out["parent"] = parent
out["child"] = in_child(lambda: {"w302": w302(), "backend": backend(), "again": backend()})
out["parent_after"] = backend()  # the parent's session survived the child
out["parent_w302"] = w302()
print(json.dumps(out))
"""


def test_a_child_opens_its_own_pool_and_w302_fires(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    url = f"postgres://postgres@127.0.0.1:{postgres_server.port}/postgres"
    env = demo_env(DATABASE_URL=url, PERFSUITE_VAR_DIR=str(tmp_path))
    result = run_python(SCRIPT, env)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["before"] == []
    assert out["child_without_pool"]["w302"] == []
    assert out["parent_after_plain_fork"] == []
    child = out["child"]
    assert "error" not in child, child
    # its own server session, never the parent's socket
    assert child["backend"] != out["parent"]
    assert child["again"] == child["backend"]
    assert out["parent_after"] == out["parent"]
    assert len(child["w302"]) == 1 and "inherited the open connection pool" in child["w302"][0]
    assert out["parent_w302"] == []  # the parent (a runner, a master) only logs it
    assert "forks with the database pool(s) default open" in result.stderr
    assert "dropped them; it opens its own" in result.stderr  # logged in the child
