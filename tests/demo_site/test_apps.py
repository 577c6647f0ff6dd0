from __future__ import annotations

import importlib
import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import override_settings

SUITE_APPS = [
    "perf_monitor",
    "memo_components",
    "query_opt",
    "cache",
    "static_opt",
    "tasks",
    "memory",
]
BASE_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]


@pytest.mark.parametrize("name", SUITE_APPS)
def test_app_is_installed_with_namespaced_label(name: str) -> None:
    module = importlib.import_module(f"perfsuite.{name}")
    assert module.__doc__
    config = apps.get_app_config(f"perfsuite_{name}")
    assert config.name == f"perfsuite.{name}"
    assert config.default_auto_field == "django.db.models.BigAutoField"


def test_check_is_clean_with_every_app() -> None:
    out = io.StringIO()
    call_command("check", "--fail-level", "WARNING", stdout=out)
    assert "no issues" in out.getvalue()


@pytest.mark.parametrize("name", SUITE_APPS)
def test_check_is_clean_with_each_app_alone(name: str) -> None:
    # the demo's URLs register virtual list sources and lazy components, as in any run
    # where a test loaded them: registrations of an app that is not installed are not
    # judged by the checks
    import project.shop.urls  # noqa: F401

    with override_settings(
        INSTALLED_APPS=[*BASE_APPS, f"perfsuite.{name}"], ROOT_URLCONF="tests.urls_minimal"
    ):
        assert [c.label for c in apps.get_app_configs()][-1] == f"perfsuite_{name}"
        out = io.StringIO()
        call_command("check", "--fail-level", "WARNING", stdout=out)
        assert "no issues" in out.getvalue()


def test_suite_never_imports_the_demo_project() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "perfsuite"
    offenders = [
        str(path)
        for path in root.rglob("*.py")
        if any(
            line.lstrip().startswith(("import project", "from project"))
            for line in path.read_text().splitlines()
        )
    ]
    assert offenders == []


@pytest.mark.django_db(databases="__all__")
def test_migrations_are_up_to_date() -> None:
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
