"""Fixtures of the query_opt tests."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from project.shop.models import Post


@pytest.fixture
def posts(db_alias: str) -> str:
    users = [get_user_model().objects.create_user(f"writer{n}") for n in range(20)]
    Post.objects.bulk_create(Post(author=u, title=f"t{u.pk}", body="b") for u in users)
    return db_alias
