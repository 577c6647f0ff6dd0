"""Memoized components: stable keys without collisions, the LRU's bounds, one render
under concurrent misses, invalidation on save and delete, escaping, the tag, and the
guide's get_cache_stats()."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.template import TemplateSyntaxError, engines
from django.test import override_settings

from perfsuite.core import caches as core_caches
from perfsuite.core import metrics
from perfsuite.memo_components.components import Component, Prop
from perfsuite.memo_components.keys import encode, memo_key
from perfsuite.memo_components.lru import renders
from perfsuite.memo_components.memo import MemoizedComponent
from project.shop.models import Post, Product

User = get_user_model()
EVIL = '<script>alert("x")</script>'
BASE = {"STORE": "local", "N_PLUS_ONE_MODE": "raise"}


class Greeting(MemoizedComponent):
    name = "t_greeting"
    template = "<p>Hello {{ who }}{% if excited %}!{% endif %}</p>"
    declared_props = {"who": Prop(object), "excited": Prop(bool, default=False)}
    calls = 0

    def get_context_data(self) -> dict[str, Any]:
        type(self).calls += 1
        return super().get_context_data()


class Slow(MemoizedComponent):
    name = "t_slow"
    template = "<p>{{ n }}</p>"
    declared_props = {"n": Prop(int)}
    calls = 0

    def get_context_data(self) -> dict[str, Any]:
        type(self).calls += 1
        time.sleep(0.2)
        return super().get_context_data()


class PostTitle(MemoizedComponent):
    name = "t_post_title"
    template = "<b>{{ post.title }}</b>"
    declared_props = {"post": Prop(Post)}


class Plain(Component):
    name = "t_plain"
    template = "<i>{{ text }}</i>"
    declared_props = {"text": Prop(str)}


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    renders.clear()
    renders.counts.clear()
    metrics.registry.reset()
    Greeting.calls = Slow.calls = 0
    with override_settings(PERFSUITE=BASE):
        yield
    renders.clear()


def key(**props: Any) -> str:
    return memo_key("k", props)


def test_values_that_print_alike_never_share_a_key() -> None:
    pairs = [(None, "None"), (1, "1"), (True, 1), (1.0, 1), (Decimal("1.0"), 1.0), ([1], (1,)[0:0])]
    for a, b in pairs:
        assert key(v=a) != key(v=b), (a, b)
    assert key(v={"a": 1, "b": 2}) == key(v=OrderedDict([("b", 2), ("a", 1)])), "dict order"
    assert key(a=1, b=2) == key(b=2, a=1), "prop order"
    assert key(v={1, 2, 3}) == key(v={3, 2, 1})
    assert key(v=[1, 2]) != key(v=[2, 1])
    with pytest.raises(TypeError, match="__memo_key__"):
        key(v=object())


@pytest.mark.django_db(databases="__all__")
def test_model_instances_key_by_label_pk_and_version(db_alias: str) -> None:
    one = Product.objects.create(name="Same", price=1, description="")
    two = Product.objects.create(name="Same", price=1, description="")
    assert str(one) == str(two) and key(p=one) != key(p=two), "equal str(), other rows"
    again = Product.objects.get(pk=one.pk)
    assert key(p=one) == key(p=again), "the same row, another object"
    again.price = 2
    again.save()
    assert key(p=again) != key(p=one), "updated_at is part of the key"
    user = User.objects.create_user("u")
    assert encode(user)[:3] == ("m", "auth.user", user.pk)


def test_a_render_is_cached_and_counted() -> None:
    assert str(Greeting(who="Ann").render()) == "<p>Hello Ann</p>"
    assert str(Greeting(who="Ann").render()) == "<p>Hello Ann</p>"
    assert str(Greeting(who="Ann", excited=True).render()) == "<p>Hello Ann!</p>"
    assert Greeting.calls == 2
    stats = Greeting.get_cache_stats()
    assert {k: stats[k] for k in ("hits", "misses", "cache_size")} == {
        "hits": 1, "misses": 2, "cache_size": 2,
    }  # fmt: skip
    assert stats["hit_rate"] == pytest.approx(1 / 3)
    snap = metrics.registry.snapshot()
    assert (
        snap.counter_total("perfsuite_component_renders", component="t_greeting", result="hit") == 1
    )


def test_an_empty_render_is_cached_like_any_other() -> None:
    class Empty(MemoizedComponent):
        template = "{% if show %}x{% endif %}"
        declared_props = {"show": Prop(bool)}

    assert str(Empty(show=False).render()) == "" and str(Empty(show=False).render()) == ""
    assert Empty.get_cache_stats()["hits"] == 1


def test_the_lru_is_bounded_by_entries_and_by_bytes() -> None:
    with override_settings(PERFSUITE={**BASE, "COMPONENT_CACHE_ENTRIES": 5}):
        for n in range(12):
            Greeting(who=n).render()
        assert Greeting.get_cache_stats()["cache_size"] == 5
        assert Greeting.get_cache_stats()["evictions"] == 7
        Greeting(who=11).render()  # the most recent ones stay
        assert Greeting.get_cache_stats()["hits"] == 1
    big = "x" * 10_000
    with override_settings(PERFSUITE={**BASE, "COMPONENT_CACHE_BYTES": 50_000}):
        renders.clear()
        for n in range(20):
            Greeting(who=f"{big}{n}").render()
        entries, size = renders.stats()
        assert size <= 50_000 and entries == 4
        Greeting(who="y" * 60_000).render()  # larger than the cache: served, not kept
        assert renders.stats()[1] <= 50_000


def test_the_lru_is_a_clearable_cache_the_memory_app_can_shrink() -> None:
    for n in range(10):
        Greeting(who=n).render()
    cache = next(c for c in core_caches.registered() if c.name == "memo_components.renders")
    assert cache.size()[0] == 10
    assert core_caches.shrink_all(0.5)["memo_components.renders"] == 5
    assert cache.size()[0] == 5
    Greeting(who=9).render()
    assert Greeting.get_cache_stats()["hits"] == 1, "the most recent half kept"


def test_twenty_concurrent_misses_render_once() -> None:
    barrier = threading.Barrier(20)
    out: list[str] = []

    def worker() -> None:
        barrier.wait()
        out.append(str(Slow(n=7).render()))

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert out == ["<p>7</p>"] * 20 and Slow.calls == 1
    assert Slow.get_cache_stats()["misses"] == 1 and Slow.get_cache_stats()["hits"] == 19


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_saving_or_deleting_an_instance_drops_its_renders(db_alias: str) -> None:
    author = User.objects.create_user("w")
    post = Post.objects.create(author=author, title="old", body="")
    other = Post.objects.create(author=author, title="other", body="")
    assert str(PostTitle(post=post).render()) == "<b>old</b>"
    PostTitle(post=other).render()
    fresh = Post.objects.get(pk=post.pk)
    fresh.title = "new"
    fresh.save()
    assert str(PostTitle(post=Post.objects.get(pk=post.pk)).render()) == "<b>new</b>"
    assert PostTitle.get_cache_stats()["cache_size"] == 2, "the other post's render stays"
    other.delete()
    assert PostTitle.get_cache_stats()["cache_size"] == 1
    snap = metrics.registry.snapshot()
    assert snap.counter_total("perfsuite_component_invalidations", model="shop.post") == 2


def test_hostile_props_are_escaped_in_every_component() -> None:
    for html in (
        Greeting(who=EVIL).render(),
        Plain(text=EVIL).render(),
        engines["django"]
        .from_string('{% load perfsuite_components %}{% component "t_greeting" who=evil %}')
        .render({"evil": EVIL}),
    ):
        assert "<script>" not in str(html) and "&lt;script&gt;" in str(html)


def test_props_are_checked_by_name_and_type() -> None:
    with pytest.raises(TypeError, match="'t_greeting' has no prop 'whom'"):
        Greeting(whom="x")
    with pytest.raises(TypeError, match="'t_greeting' needs the prop 'who'"):
        Greeting()
    with pytest.raises(TypeError, match="prop 'excited' must be bool"):
        Greeting(who="x", excited="yes")
    engine = engines["django"]
    for source, message in (
        ('{% component "t_greeting" whom=1 %}', "no prop 'whom'"),
        ('{% component "t_greeting" %}', "needs the prop 'who'"),
        ('{% component "nope" %}', "no component is registered as 'nope'"),
        ('{% component "t_greeting" who %}', "name=value"),
        ("{% component %}", "needs a component name"),
    ):
        with pytest.raises(TemplateSyntaxError, match=message):
            engine.from_string("{% load perfsuite_components %}" + source)
    dynamic = engine.from_string('{% load perfsuite_components %}{% component name who="a" %}')
    assert dynamic.render({"name": "t_greeting"}) == "<p>Hello a</p>"
    with pytest.raises(TemplateSyntaxError, match="'nope'"):
        dynamic.render({"name": "nope"})


class PostList(MemoizedComponent):
    name = "t_post_list"
    template = "{% for p in posts %}<b>{{ p.title }}</b>{% endfor %}"
    declared_props = {"posts": Prop(list)}


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_an_instance_inside_a_list_prop_drops_the_render_too(db_alias: str) -> None:
    author = User.objects.create_user("w")
    posts = [Post.objects.create(author=author, title=f"t{n}", body="") for n in range(3)]
    assert str(PostList(posts=posts).render()) == "<b>t0</b><b>t1</b><b>t2</b>"
    posts[1].title = "changed"
    posts[1].save()
    fresh = list(Post.objects.filter(author=author).order_by("pk"))
    assert str(PostList(posts=fresh).render()) == "<b>t0</b><b>changed</b><b>t2</b>"


DEAD = {
    "BACKEND": "django_redis.cache.RedisCache",
    "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens there
    "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
}


def test_an_unreachable_shared_alias_leaves_renders_per_process() -> None:
    from django.conf import settings

    from perfsuite.memo_components import shared

    shared.breaker.reset()
    caches = {**settings.CACHES, "dead": DEAD}
    with override_settings(CACHES=caches, PERFSUITE={**BASE, "COMPONENT_CACHE_ALIAS": "dead"}):
        assert str(Greeting(who="Bo").render()) == "<p>Hello Bo</p>"
        assert shared.breaker.is_open, "the failure opened the breaker"
        assert shared.backend() is None, "no connection attempt while it is open"
        for n in range(20):
            assert str(Greeting(who=f"x{n}").render()) == f"<p>Hello x{n}</p>"
        assert str(Greeting(who="Bo").render()) == "<p>Hello Bo</p>"
        assert Greeting.get_cache_stats()["hits"] == 1
    shared.breaker.reset()


def test_an_edited_template_under_runserver_is_a_new_key(tmp_path: Any) -> None:
    from django.utils.autoreload import file_changed

    Greeting(who="Al").render()
    before = Greeting(who="Al").memo_key()
    file_changed.send(sender=None, file_path=tmp_path / "shop" / "card.html")
    assert renders.stats()[0] == 0, "old renders dropped"
    Greeting(who="Al").render()
    assert Greeting.get_cache_stats()["misses"] == 2 and Greeting(who="Al").memo_key() == before
