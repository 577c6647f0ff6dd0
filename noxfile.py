"""Run the suite on Django 6.x, which needs Python 3.12 or newer.

- ``make nox`` (``nox -s tests_django6``): every Python 3.12+ interpreter found; a
  missing one is skipped (nox says so).
- ``make test-django6`` (``nox -s tests_django6_newest``, what ``.ci/run`` runs): the
  newest one found; when there is none the session fails, it never passes silently.

Interpreters are looked up on PATH and in pyenv's versions folder (pyenv shims of
versions that are not active do not run, so the real binaries are used).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess

import nox

nox.options.error_on_missing_interpreters = False


def _interpreters() -> list[str]:
    found: dict[str, str] = {}
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    for minor in ("3.12", "3.13", "3.14"):
        candidates = sorted(glob.glob(f"{root}/versions/{minor}.*/bin/python{minor}"))
        on_path = shutil.which(f"python{minor}")
        if on_path:
            candidates.append(on_path)
        for candidate in candidates:
            ok = subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0
            if ok:
                found[minor] = candidate
                break
    return list(found.values())


INTERPRETERS = _interpreters()


def _run_suite(session: nox.Session) -> None:
    session.install("-r", "requirements-dev.txt")
    session.install("Django>=6,<7")
    session.run("python", "-m", "django", "--version")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session(python=INTERPRETERS or ["3.12"])
def tests_django6(session: nox.Session) -> None:
    _run_suite(session)


@nox.session(python=INTERPRETERS[-1:] or ["3.12"])
def tests_django6_newest(session: nox.Session) -> None:
    if not INTERPRETERS:
        session.error("no Python 3.12+ interpreter found (PATH or pyenv): Django 6 not tested")
    _run_suite(session)
