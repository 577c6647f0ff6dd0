"""``manage.py task_relay``: send the outbox's waiting tasks (``TASK_OUTBOX``)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from perfsuite.tasks import outbox


class Command(BaseCommand):
    help = "Send the tasks waiting in the outbox (written while the broker was unreachable)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=None, help="send at most this many")
        parser.add_argument(
            "--loop",
            type=float,
            default=None,
            metavar="SECONDS",
            help="keep relaying, pausing this long between rounds (Ctrl-C stops)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            sent = outbox.relay(limit=options["limit"])
            left = outbox.waiting()
            self.stdout.write(f"sent {sent}, waiting {left}")
            if options["loop"] is None:
                return
            time.sleep(max(0.1, options["loop"]))
