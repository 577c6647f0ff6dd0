"""Run the suite on Django 6.x, which needs Python 3.12 or newer.

``make nox`` (or ``nox -s tests_django6``). nox finds ``python3.12`` /
``python3.13`` on PATH or in pyenv; a missing interpreter is skipped.
"""

from __future__ import annotations

import nox

nox.options.error_on_missing_interpreters = False


@nox.session(python=["3.12", "3.13"])
def tests_django6(session: nox.Session) -> None:
    session.install("-r", "requirements-dev.txt")
    session.install("Django>=6,<7")
    session.run("python", "-m", "django", "--version")
    session.run("python", "-m", "pytest", *session.posargs)
