"""``manage.py cache_invalidate --tag products --path /products/ --all``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from perfsuite.cache.invalidation import invalidate_all, invalidate_path, invalidate_tags


class Command(BaseCommand):
    help = "Invalidate cached responses by tag, by path, or all of them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tag", action="append", default=[], help="a tag (repeatable)")
        parser.add_argument("--path", action="append", default=[], help="a URL path (repeatable)")
        parser.add_argument("--all", action="store_true", help="every cached response")

    def handle(self, *args: Any, **options: Any) -> None:
        tags, paths = options["tag"], options["path"]
        if not (tags or paths or options["all"]):
            raise CommandError("say what to invalidate: --tag, --path or --all")
        for path in paths:
            if not path.startswith("/"):
                raise CommandError(f"--path takes a URL path starting with '/', got {path!r}")
        try:
            if tags:
                invalidate_tags(*tags)
            if paths:
                invalidate_path(*paths)
            if options["all"]:
                invalidate_all()
        except Exception as exc:
            raise CommandError(f"the cache backend failed: {exc}") from exc
        done = [f"tag {t}" for t in tags] + [f"path {p}" for p in paths]
        if options["all"]:
            done.append("everything")
        self.stdout.write(self.style.SUCCESS("Invalidated: " + ", ".join(done)))
