"""``search`` beyond the guide: full-text and trigram matching with their GIN indexes
on PostgreSQL, keyset pages through signed cursors, forged cursors refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from perfsuite.query_opt import search
from perfsuite.query_opt.operations import CreateSearchIndexes
from perfsuite.query_opt.queries import OptimizedQuerySet

pytestmark = pytest.mark.django_db(databases="__all__")
User = get_user_model()


def users() -> OptimizedQuerySet:
    return OptimizedQuerySet.for_model(User)


def names(found: dict[str, Any]) -> list[str]:
    return [u.username for u in found["users"]]


@pytest.fixture
def named(db_alias: str) -> str:
    User.objects.create_user("alice", first_name="Alice", last_name="Smithson")
    User.objects.create_user("alicia", first_name="Alicia", last_name="Keys")
    User.objects.create_user("robert", first_name="Bob", last_name="Smith")
    User.objects.create_user("zed")
    return db_alias


def test_partial_names_match_every_field_and_all_words(named: str) -> None:
    assert names(users().search("ali")) == ["alice", "alicia"]
    assert names(users().search("smi")) == ["alice", "robert"], "last names, by prefix"
    assert names(users().search("ali smi")) == ["alice"], "every word must match"
    assert names(users().search("bob")) == ["robert"], "first names"
    assert names(users().search("  ")) == ["alice", "alicia", "robert", "zed"]
    # tsquery syntax in the input is only text: never a 500, never a broader match
    for hostile in ("ali & !zed", "ali:*|zed", "'); DROP TABLE auth_user; --", "\\", "%_"):
        assert "zed" not in names(users().search(hostile)), hostile


def test_misspelt_names_on_postgresql(postgres_alias: str) -> None:
    User.objects.create_user("alice", first_name="Alice")
    User.objects.create_user("zed")
    search.forget_trigram()
    assert names(users().search("allice")) == ["alice"], "trigram word similarity"
    assert names(users().search("alicee")) == ["alice"]
    assert names(users().search("qqqqq")) == []


def test_the_gin_indexes_serve_the_search_on_postgresql(postgres_alias: str) -> None:
    connection = connections[postgres_alias]
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'auth_user'")
        indexes = {row[0] for row in cursor.fetchall()}
    assert {"auth_user_name_fts", "auth_user_name_trgm"} <= indexes, indexes
    matches = search.text_filter(users(), "alic", OptimizedQuerySet.search_fields, "username")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = matches.explain()
    assert "auth_user_name_fts" in plan and "auth_user_name_trgm" in plan, plan
    assert "Seq Scan" not in plan


def test_the_operation_does_nothing_on_sqlite_and_deconstructs() -> None:
    operation = CreateSearchIndexes("auth.User")
    path, args, kwargs = operation.deconstruct()
    assert path == "perfsuite.query_opt.operations.CreateSearchIndexes"
    assert kwargs == {"model": "auth.User"} and not args
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        assert not [r for r in cursor.fetchall() if "name_fts" in r[0]]


def read_all(query: str, page_size: int, between: Any = None) -> list[str]:
    seen: list[str] = []
    found = users().search(query, page_size=page_size)
    while True:
        seen += names(found)
        if found["next_cursor"] is None:
            return seen
        if between is not None:
            between(len(seen))
        found = users().search(query, page_size=page_size, cursor=found["next_cursor"])


def test_keyset_pages_never_repeat_or_skip_a_row_under_inserts(db_alias: str) -> None:
    original = [f"user{n:03d}" for n in range(0, 60, 2)]
    User.objects.bulk_create(User(username=name) for name in original)

    def insert(step: int) -> None:  # rows before, among and after the reader's place
        User.objects.create_user(f"user{step * 2 - 3:03d}")
        User.objects.create_user(f"user{step * 2 + 5:03d}")
        User.objects.create_user(f"aaa{step:03d}")

    seen = read_all("user", page_size=7, between=insert)
    assert len(seen) == len(set(seen)), "a row was repeated"
    assert set(original) <= set(seen), f"skipped: {set(original) - set(seen)}"
    assert seen == sorted(seen), "one order across pages"


def test_a_deep_cursor_page_is_a_keyset_query_not_an_offset(db_alias: str) -> None:
    User.objects.bulk_create(User(username=f"deep{n:04d}") for n in range(120))
    found = users().search("deep", page_size=50, count="none")
    found = users().search("deep", page_size=50, count="none", cursor=found["next_cursor"])
    with CaptureQueriesContext(connections[db_alias]) as queries:
        last = users().search("deep", page_size=50, count="none", cursor=found["next_cursor"])
    assert names(last) == [f"deep{n:04d}" for n in range(100, 120)] and last["page"] == 3
    assert last["next_cursor"] is None
    assert len(queries) == 1 and "OFFSET" not in queries[0]["sql"].upper()


def forged_cursors(good: str) -> list[str]:
    flipped = good[:-1] + ("A" if good[-1] != "A" else "B")
    other_salt = signing.dumps({"k": ["a", 1], "q": "user", "p": 2}, salt="elsewhere")
    unsigned_key = signing.dumps({"k": ["zzz"], "q": "user", "p": 2}, salt=search.SALT)
    return [flipped, "abc", "", "x" * 5000, other_salt, unsigned_key]


def test_forged_or_foreign_cursors_are_a_value_error(db_alias: str) -> None:
    User.objects.bulk_create(User(username=f"user{n}") for n in range(5))
    good = users().search("user", page_size=2)["next_cursor"]
    for bad in forged_cursors(good):
        with pytest.raises(ValueError, match="cursor"):
            users().search("user", page_size=2, cursor=bad)
    with pytest.raises(ValueError, match="another search"):
        users().search("other", page_size=2, cursor=good)


def test_json_endpoint_pages_by_cursor_and_refuses_forgeries(db_alias: str, client: Client) -> None:
    User.objects.bulk_create(User(username=f"json{n:02d}") for n in range(12))
    first = client.get("/users/search.json", {"q": "json", "page_size": 5}).json()
    second = client.get(
        "/users/search.json", {"q": "json", "page_size": 5, "cursor": first["next_cursor"]}
    ).json()
    assert [u["username"] for u in second["users"]] == [f"json{n:02d}" for n in range(5, 10)]
    assert second["page"] == 2 and second["total_count"] == 12
    for bad in forged_cursors(first["next_cursor"]):
        response = client.get("/users/search.json", {"q": "json", "cursor": bad})
        assert response.status_code == 400 and "cursor" in response.json()["error"]
