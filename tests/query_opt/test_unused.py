"""Unused eager loads: a select_related / prefetch_related never read is a finding with
the line of the query that loaded it, under WSGI and ASGI, on SQLite and PostgreSQL;
one read of the relation on any object uses the load."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.test import AsyncClient, Client, override_settings

from perfsuite.core import metrics
from perfsuite.query_opt import detection, eager
from perfsuite.query_opt.detection import (
    N_PLUS_ONE,
    UNUSED_EAGER_LOAD,
    NPlusOneError,
    UnusedEagerLoadError,
    UnusedEagerLoadWarning,
)
from perfsuite.query_opt.instrumentation import QueryLog, begin, end
from project.shop.models import Post
from tests.query_opt.support import MIDDLEWARE, line_of

pytestmark = [pytest.mark.urls("tests.query_opt.urls"), pytest.mark.django_db(databases="__all__")]


def settings(**conf: Any) -> Any:
    return override_settings(PERFSUITE={"STORE": "local", "N_PLUS_ONE_MODE": "log", **conf})


@pytest.fixture(autouse=True)
def instrumented() -> Iterator[None]:
    detection.recent.clear()
    metrics.registry.reset()
    with override_settings(MIDDLEWARE=MIDDLEWARE), settings():
        yield


def get(server: str, path: str) -> Any:
    if server == "wsgi":
        return Client().get(path)
    return async_to_sync(AsyncClient().get)(path)


def kinds() -> list[str]:
    return sorted(f["kind"] for f in detection.recent_findings())


@pytest.mark.parametrize(
    ("server", "path"), [("wsgi", "/both/"), ("asgi", "/both/"), ("asgi", "/async-both/")]
)
def test_n_plus_one_and_unused_prefetch_each_found_once_with_their_lines(
    posts: str, server: str, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="perfsuite.query_opt"):
        assert get(server, path).status_code == 200
    findings = {f["kind"]: f for f in detection.recent_findings()}
    assert kinds() == [N_PLUS_ONE, UNUSED_EAGER_LOAD]
    assert findings[N_PLUS_ONE]["caller"] == line_of("BOTH_N_PLUS_ONE")
    unused = findings[UNUSED_EAGER_LOAD]
    assert unused["caller"] == line_of("BOTH_UNUSED")
    assert unused["relation"] == "auth.User.posts" and unused["via"] == "prefetch_related"
    assert unused["count"] == 20  # the users it was loaded for
    assert "shop_post" in unused["fingerprint"] and unused["route"] == path.strip("/") + "/"
    assert [r for r in caplog.records if "Unused eager load" in r.getMessage()]
    snap = metrics.registry.snapshot()
    assert snap.counter_total("perfsuite_db_n_plus_one") == 1
    assert snap.counter_total("perfsuite_db_unused_eager") == 1


@pytest.mark.parametrize("server", ["wsgi", "asgi"])
def test_an_unused_select_related_names_the_relation_and_the_join(posts: str, server: str) -> None:
    get(server, "/unused-select/")
    (finding,) = detection.recent_findings()
    assert finding["kind"] == UNUSED_EAGER_LOAD
    assert finding["relation"] == "shop.Post.author" and finding["via"] == "select_related"
    assert finding["caller"] == line_of("UNUSED_SELECT_LINE")
    assert "JOIN" in finding["fingerprint"] and finding["count"] == 20


def test_an_unused_prefetch_once_per_relation_per_request(posts: str) -> None:
    get("wsgi", "/unused-prefetch/")
    get("wsgi", "/unused-prefetch/")
    found = detection.recent_findings()
    assert len(found) == 2  # one a request
    assert {f["caller"] for f in found} == {line_of("UNUSED_PREFETCH_LINE")}
    assert metrics.registry.snapshot().counter_total("perfsuite_db_unused_eager") == 2


def test_loads_read_once_empty_or_silenced_are_not_findings(posts: str) -> None:
    for path in ("/eager-read/", "/eager-empty/", "/eager-silenced/", "/joined/"):
        assert get("wsgi", path).status_code == 200, path
    assert detection.recent_findings() == []


def test_a_nested_prefetch_names_the_level_never_read(posts: str) -> None:
    get("wsgi", "/eager-nested-unused/")
    (finding,) = detection.recent_findings()
    assert finding["relation"] == "auth.User.profile"  # Django's walk to it is no read
    assert finding["via"] == "prefetch_related" and finding["count"] == 10


def test_modes_inherit_off_warn_raise_and_the_allow_list(posts: str) -> None:
    with settings(N_PLUS_ONE_MODE="raise"), pytest.raises(UnusedEagerLoadError, match="never"):
        Client().get("/unused-prefetch/")
    with settings(N_PLUS_ONE_MODE="raise", UNUSED_EAGER_MODE="off"):
        assert Client().get("/unused-prefetch/").status_code == 200
    with settings(UNUSED_EAGER_MODE="warn"), pytest.warns(UnusedEagerLoadWarning):
        Client().get("/unused-select/")
    with settings(N_PLUS_ONE_MODE="off", UNUSED_EAGER_MODE="raise"):
        with pytest.raises(UnusedEagerLoadError):
            Client().get("/unused-select/")
        assert Client().get("/n-plus-one/").status_code == 200
    with settings(N_PLUS_ONE_MODE="raise", UNUSED_EAGER_MODE="log"), pytest.raises(NPlusOneError):
        Client().get("/n-plus-one/")
    detection.recent.clear()
    for allow in ("unused-select/", "SELECT "):
        with settings(N_PLUS_ONE_MODE="raise", N_PLUS_ONE_ALLOW=[allow]):
            assert Client().get("/unused-select/").status_code == 200
    assert detection.recent_findings() == []


def test_queries_outside_a_request_are_not_tracked(posts: str) -> None:
    post = Post.objects.select_related("author").first()
    assert post is not None and type(post._state.fields_cache) is dict
    user = get_user_model().objects.prefetch_related("posts").first()
    assert type(user._prefetched_objects_cache) is dict
    log = QueryLog()  # an assert_max_queries block: counted, not tracked
    token = begin(log)
    try:
        post = Post.objects.select_related("author").first()
    finally:
        end(token)
    assert post is not None and type(post._state.fields_cache) is dict


def test_watched_caches_read_like_and_pickle_as_plain_ones(posts: str) -> None:
    log = QueryLog()
    log.eager = eager.EagerTracker()
    token = begin(log)
    try:
        post = Post.objects.select_related("author").order_by("pk").first()
        users = list(get_user_model().objects.prefetch_related("posts").order_by("pk"))
    finally:
        end(token)
    assert post is not None and isinstance(post._state.fields_cache, eager.WatchedDict)
    copy = pickle.loads(pickle.dumps(post))
    assert type(copy._state.fields_cache) is dict and copy.author.pk == post.author_id
    assert type(pickle.loads(pickle.dumps(users[0]))._prefetched_objects_cache) is dict
    assert [load.used for load in log.eager.loads] == [False, False]  # pickling: no read
    assert post.author.pk == post.author_id and users[0].posts.count() == 1
    assert [load.used for load in log.eager.loads] == [True, True]
    assert [load.relation for load in log.eager.loads] == ["shop.Post.author", "auth.User.posts"]


def test_the_dashboard_panel_counts_and_lists_unused_loads(posts: str) -> None:
    from django.contrib.auth.models import User

    from project.settings import MIDDLEWARE as demo_middleware

    get("wsgi", "/unused-select/")
    staff = Client()
    staff.force_login(User.objects.create_superuser("dba", "dba@example.com", "pw"))
    with override_settings(ROOT_URLCONF="project.urls", MIDDLEWARE=demo_middleware):
        data = staff.get("/admin/performance/data.json?window=5m").json()
        page = staff.get("/admin/performance/").content.decode()
    stats = next(p for p in data["panels"] if p["id"] == "query_opt")["stats"]
    assert stats["unused_eager"] == 1 and stats["n_plus_one"] == 0
    rows = {row["route"]: row for row in stats["routes"]}
    assert rows["unused-select/"]["unused_eager"] == 1
    assert stats["recent"][0]["kind"] == UNUSED_EAGER_LOAD
    assert line_of("UNUSED_SELECT_LINE") in page
    assert "select_related(shop.Post.author)" in page


def test_a_load_made_by_django_itself_is_not_a_finding(posts: str) -> None:
    """The admin index joins each log entry's user and never shows it: not the
    project's line to fix, so not a finding even in raise mode."""
    from django.contrib.admin.models import ADDITION, LogEntry
    from django.contrib.auth.models import User
    from django.contrib.contenttypes.models import ContentType

    from project.settings import MIDDLEWARE as demo_middleware

    staff = User.objects.create_superuser("admin1", "a@example.com", "pw")
    kind = ContentType.objects.get_for_model(Post)
    LogEntry.objects.create(
        user=staff, content_type=kind, object_id="1", object_repr="p", action_flag=ADDITION
    )
    client = Client()
    client.force_login(staff)
    demo = override_settings(ROOT_URLCONF="project.urls", MIDDLEWARE=demo_middleware)
    with demo, settings(N_PLUS_ONE_MODE="raise"):
        page = client.get("/admin/")
    assert page.status_code == 200 and b"Recent actions" in page.content
    assert detection.recent_findings() == []
