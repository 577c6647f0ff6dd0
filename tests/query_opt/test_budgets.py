"""Query budgets for CI: ``assert_max_queries`` and the ``perf_budget`` pytest marker."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from perfsuite.query_opt.budgets import QueryBudgetExceeded, assert_max_queries, budget
from project.shop.models import Post
from tests.helpers import ROOT

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def posts(db_alias: str) -> str:
    users = [get_user_model().objects.create_user(f"reader{n}") for n in range(6)]
    Post.objects.bulk_create(Post(author=u, title=f"t{u.pk}", body="b") for u in users)
    return db_alias


def loop() -> list[str]:
    return [p.author.username for p in Post.objects.order_by("pk")]


def test_within_budget_passes_and_reports(posts: str) -> None:
    with assert_max_queries(1) as log:
        list(Post.objects.select_related("author"))
    assert log.count == 1


def test_over_budget_fails_with_every_statement(posts: str) -> None:
    with pytest.raises(QueryBudgetExceeded) as failure, assert_max_queries(3):
        loop()
    message = str(failure.value)
    assert "7 queries, over the budget of 3" in message
    assert message.count("\n  ") == 7, "one line per statement"
    assert "auth_user" in message


def test_duplicates_have_a_budget_of_their_own(posts: str) -> None:
    with pytest.raises(QueryBudgetExceeded, match="5 duplicate queries, over 0"):
        budget(100, duplicates=0)(loop)()
    with assert_max_queries(100, duplicates=0):
        list(Post.objects.select_related("author"))


MARKED = textwrap.dedent(
    """
    import pytest
    from django.contrib.auth import get_user_model


    @pytest.mark.django_db
    @pytest.mark.perf_budget(queries=2)
    def test_over_budget():
        for n in range(5):
            get_user_model().objects.filter(pk=n).exists()


    @pytest.mark.django_db
    @pytest.mark.perf_budget(queries=5, duplicates=4)
    def test_within_budget():
        for n in range(5):
            get_user_model().objects.filter(pk=n).exists()
    """
)


def test_the_pytest_marker_comes_with_the_package(tmp_path: Path) -> None:
    """No conftest, no -p: the installed package's pytest11 entry point gives the marker."""
    test_file = tmp_path / "test_marked.py"
    test_file.write_text(MARKED)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(test_file), "-q", "-p", "no:cacheprovider",
         "--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "1 failed, 1 passed" in out, out
    assert "5 queries, over the budget of 2" in out
