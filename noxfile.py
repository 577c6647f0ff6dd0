"""Run the suite on Django 6.x, which needs Python 3.12 or newer.

``make nox`` (or ``nox -s tests_django6``). Interpreters are looked up on PATH and
in pyenv's versions folder (pyenv shims of versions that are not active do not
run, so the real binaries are used); a missing one is skipped.
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
    return list(found.values()) or ["3.12"]


@nox.session(python=_interpreters())
def tests_django6(session: nox.Session) -> None:
    session.install("-r", "requirements-dev.txt")
    session.install("Django>=6,<7")
    session.run("python", "-m", "django", "--version")
    session.run("python", "-m", "pytest", *session.posargs)
