"""fetch_mode through OptimizedQuerySet and its manager: FETCH_PEERS loads a lazily
fetched relation or deferred field for every instance of the result in one query,
FETCH_RAISE blocks it. Django's own on 6.1, the shim on 5.2 and 6.0; the same
query counts on both, on SQLite and PostgreSQL."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldError

from perfsuite.query_opt import fetch_modes
from perfsuite.query_opt.budgets import assert_max_queries
from perfsuite.query_opt.fetch_modes import (
    FETCH_ONE,
    FETCH_PEERS,
    FETCH_RAISE,
    FetchModeMixin,
    FieldFetchBlocked,
)
from perfsuite.query_opt.queries import OptimizedManager, OptimizedQuerySet
from project.shop.models import Post, Profile

pytestmark = pytest.mark.django_db(databases="__all__")
WRITERS = 6


@pytest.fixture
def data(db_alias: str) -> str:
    users = [get_user_model().objects.create_user(f"peer{n}") for n in range(WRITERS)]
    Profile.objects.bulk_create(Profile(user=u, location=f"town{u.pk}") for u in users[::2])
    Post.objects.bulk_create(
        Post(author=u, title=f"t{u.pk}-{n}", body=f"body {u.pk}") for u in users for n in range(2)
    )
    return db_alias


def posts() -> OptimizedQuerySet:
    return OptimizedQuerySet.for_model(Post).order_by("pk")


def users() -> OptimizedQuerySet:
    return OptimizedQuerySet.for_model(get_user_model()).order_by("pk")


def location(user: Any) -> str | None:
    try:
        return str(user.profile.location)
    except Profile.DoesNotExist:
        return None


def test_the_names_are_djangos_own_on_6_1() -> None:
    import django.core.exceptions
    import django.db.models

    assert issubclass(FieldFetchBlocked, FieldError)
    if fetch_modes.NATIVE:
        assert FETCH_PEERS is django.db.models.FETCH_PEERS  # type: ignore[attr-defined]
        assert FieldFetchBlocked is django.core.exceptions.FieldFetchBlocked  # type: ignore[attr-defined]
    else:
        assert repr(FETCH_PEERS) == "FETCH_PEERS"
        assert pickle.loads(pickle.dumps(FETCH_RAISE)) is FETCH_RAISE
    assert issubclass(OptimizedQuerySet, FetchModeMixin)


def test_fetch_one_is_one_query_per_instance(data: str) -> None:
    loaded = list(posts().fetch_mode(FETCH_ONE))
    with assert_max_queries(WRITERS * 2) as log:
        names = [p.author.username for p in loaded]
    assert log.count == WRITERS * 2 and len(set(names)) == WRITERS


def test_peers_load_a_foreign_key_for_the_whole_result_in_one_query(data: str) -> None:
    loaded = list(posts().fetch_mode(FETCH_PEERS))
    with assert_max_queries(1):
        names = [p.author.username for p in loaded]
    assert names == [p.author.username for p in posts().select_related("author")]


def test_peers_load_a_reverse_one_to_one_and_a_deferred_field(data: str) -> None:
    people = list(users().fetch_mode(FETCH_PEERS))
    with assert_max_queries(1):
        towns = [location(u) for u in people]
    assert towns == [f"town{u.pk}" if n % 2 == 0 else None for n, u in enumerate(people)]
    deferred = list(posts().fetch_mode(FETCH_PEERS).defer("body"))
    with assert_max_queries(1):
        bodies = [p.body for p in deferred]
    assert bodies == [f"body {p.author_id}" for p in deferred]


def test_objects_fetched_for_peers_are_peers_too(data: str) -> None:
    loaded = list(posts().fetch_mode(FETCH_PEERS))
    with assert_max_queries(2):  # the authors, then all their profiles
        towns = [location(p.author) for p in loaded]
    assert towns.count(None) == WRITERS  # two posts each for the writers without one


def test_select_related_objects_take_the_mode(data: str) -> None:
    loaded = list(posts().select_related("author").fetch_mode(FETCH_PEERS))
    with assert_max_queries(1):
        towns = [location(p.author) for p in loaded]
    assert len(towns) == WRITERS * 2
    blocked = posts().select_related("author").fetch_mode(FETCH_RAISE).first()
    assert blocked is not None and blocked.author.username.startswith("peer")
    with pytest.raises(FieldFetchBlocked):
        location(blocked.author)


def test_peers_are_the_instances_of_one_result(data: str) -> None:
    first = list(posts().fetch_mode(FETCH_PEERS)[:3])
    second = list(posts().fetch_mode(FETCH_PEERS)[3:6])
    with assert_max_queries(1):
        authors = {p.author.pk for p in first}
    assert authors == {p.author_id for p in first}
    assert not any(Post.author.is_cached(p) for p in second)  # type: ignore[attr-defined]
    single = posts().fetch_mode(FETCH_PEERS).get(pk=second[0].pk)
    with assert_max_queries(1):
        assert single.author.pk == second[0].author_id


def test_raise_blocks_every_lazy_fetch_with_a_clear_message(data: str) -> None:
    post = posts().fetch_mode(FETCH_RAISE).defer("body").first()
    user = users().fetch_mode(FETCH_RAISE).first()
    assert post is not None and user is not None
    with assert_max_queries(0):
        with pytest.raises(FieldFetchBlocked, match=r"Fetching of Post\.author blocked"):
            post.author  # noqa: B018
        with pytest.raises(FieldFetchBlocked, match=r"Post\.body"):
            post.body  # noqa: B018
        with pytest.raises(FieldFetchBlocked, match="profile"):
            user.profile  # noqa: B018
        assert post.title and post.author_id  # loaded fields read as ever
    fine = posts().defer("body").first()
    assert fine is not None and fine.body.startswith("body")  # other querysets unchanged


def test_the_manager_offers_it_and_iterator_and_pickling_keep_working(data: str) -> None:
    manager = OptimizedManager()
    manager.model = Post
    loaded = list(manager.fetch_mode(FETCH_PEERS).order_by("pk").iterator())
    with assert_max_queries(1):
        authors = {p.author.username for p in loaded}
    assert len(authors) == WRITERS
    joined = list(manager.fetch_mode(FETCH_PEERS).select_related("author").iterator())
    with assert_max_queries(1):  # the joined authors of every row are peers
        towns = [location(p.author) for p in joined]
    assert towns.count(None) == WRITERS
    copy = pickle.loads(pickle.dumps(loaded[0]))
    assert copy.author.pk == loaded[0].author_id
    fresh = pickle.loads(pickle.dumps(manager.fetch_mode(FETCH_PEERS).order_by("pk")[0]))
    with assert_max_queries(1):
        assert fresh.author.username.startswith("peer")  # a pickle forgets its peers


def test_fetch_mode_refuses_anything_but_a_mode() -> None:
    with pytest.raises(TypeError):
        posts().fetch_mode("FETCH_PEERS")
