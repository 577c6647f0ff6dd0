"""A broker on the file system that keeps a task until the worker acknowledges it.

kombu's ``filesystem`` transport deletes a message file when a worker *receives* it:
a worker killed before it finishes the task (SIGKILL, the OOM killer, a reboot) has
lost it for good, whatever ``task_acks_late`` says. This transport is that one with
acknowledgements, for sites without Redis (the demo's embedded broker):

- receiving a message **moves** its file (an atomic rename: two workers never get
  one message) into ``<data_folder_in>/.claimed/<owner>/``, the owner being the
  receiving process (``host~pid~start``, :mod:`.owners`);
- an acknowledgement deletes it; a reject with requeue and a warm shutdown put it
  back (kombu's restore, marked ``redelivered``);
- a claim whose owner process is dead (on this host) is put back under its first
  name, so in its first place in the queue, marked ``redelivered``, by any worker
  of the folder: at once when a worker starts, then every ``recover_interval``
  seconds (transport option, default 5).

    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT = "perfsuite.tasks.fsbroker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": ..., "data_folder_out": ...}

One machine only (like the transport it extends); use Redis for several.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem, virtual
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

from . import owners

CLAIMED = ".claimed"


class QoS(virtual.QoS):
    def ack(self, delivery_tag: str) -> None:
        self.channel.release(delivery_tag)
        super().ack(delivery_tag)

    def reject(self, delivery_tag: str, requeue: bool = False) -> None:
        super().reject(delivery_tag, requeue)  # requeue: kombu's restore, then release
        self.channel.release(delivery_tag)


class Channel(filesystem.Channel):
    QoS = QoS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._claims: dict[str, Path] = {}
        self._next_recovery = 0.0
        #: queues consumed without acknowledgements (Celery's remote control, its
        #: replies, gossip): nothing would release their claims
        self._no_ack: set[str] = set()

    def basic_consume(
        self, queue: str, no_ack: bool, callback: Any, consumer_tag: str, **kwargs: Any
    ) -> Any:
        if no_ack:
            self._no_ack.add(queue)
        else:
            self._no_ack.discard(queue)
        return super().basic_consume(queue, no_ack, callback, consumer_tag, **kwargs)

    def basic_get(self, queue: str, no_ack: bool = False, **kwargs: Any) -> Any:
        message = super().basic_get(queue, no_ack, **kwargs)
        if message is not None and no_ack:
            self.release(message.delivery_tag)
        return message

    @property
    def claimed_root(self) -> Path:
        return Path(self.data_folder_in) / CLAIMED

    def _my_folder(self) -> Path:
        folder = self.claimed_root / owners.me()
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def maybe_recover(self) -> None:
        """:meth:`recover`, once every ``recover_interval`` seconds."""
        if time.monotonic() >= self._next_recovery:
            self._next_recovery = time.monotonic() + float(
                self.transport_options.get("recover_interval", 5)
            )
            self.recover()

    def _get(self, queue: str, timeout: float | None = None) -> Any:
        self.maybe_recover()
        wanted = f"{queue}.msg"
        mine: Path | None = None
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.partition(".")[2] != wanted:
                continue
            mine = mine or self._my_folder()
            try:
                os.rename(os.path.join(self.data_folder_in, name), mine / name)
            except OSError:  # another worker took it first
                continue
            try:
                payload = loads(bytes_to_str((mine / name).read_bytes()))
            except (OSError, ValueError) as exc:
                raise ChannelError(f"Cannot read message {name!r}") from exc
            tag = (payload.get("properties") or {}).get("delivery_tag")
            if tag is None or queue in self._no_ack:  # no acknowledgement will come
                (mine / name).unlink(missing_ok=True)
            else:
                self._claims[tag] = mine / name
            return payload
        raise filesystem.Empty()

    def release(self, delivery_tag: str) -> None:
        """The message is done with (acknowledged, or put back by kombu)."""
        claim = self._claims.pop(delivery_tag, None)
        if claim is not None:
            claim.unlink(missing_ok=True)

    def _restore(self, message: Any) -> None:
        # marked where Celery's request.delivery_info reads it (kombu marks only the
        # payload): a redelivery is counted towards TASK_MAX_REDELIVERIES
        info = message.delivery_info
        if isinstance(info, dict):
            info["redelivered"] = True
        super()._restore(message)  # a copy back in the queue, marked redelivered
        self.release(message.delivery_tag)

    def recover(self) -> int:
        """Put back every message claimed by a process of this host that has died."""
        root = self.claimed_root
        try:
            folders = [entry for entry in os.scandir(root) if entry.is_dir()]
        except FileNotFoundError:
            return 0
        restored = 0
        for folder in folders:
            if folder.name == owners.me() or not owners.is_dead(folder.name):
                continue
            for name in sorted(os.listdir(folder.path)):
                restored += self._put_back(Path(folder.path) / name)
            try:
                os.rmdir(folder.path)
            except OSError:
                pass
        return restored

    def _put_back(self, claim: Path) -> int:
        # take the dead owner's claim first (one recoverer wins), then rewrite it under
        # its first name, marked redelivered
        taken = self._my_folder() / f"recovering-{uuid.uuid4().hex}-{claim.name}"
        try:
            os.rename(claim, taken)
        except OSError:
            return 0
        payload = loads(bytes_to_str(taken.read_bytes()))
        payload["redelivered"] = True  # as kombu's restore marks it
        info = (payload.get("properties") or {}).get("delivery_info")
        if isinstance(info, dict):
            info["redelivered"] = True  # what Celery's request.delivery_info shows
        name = claim.name
        if name.startswith("recovering-"):  # a recoverer died while putting it back
            name = name.split("-", 2)[2]
        staging = Path(self.data_folder_in) / f".{uuid.uuid4().hex}"
        staging.write_bytes(str_to_bytes(dumps(payload)))
        os.replace(staging, Path(self.data_folder_in) / name)
        taken.unlink()
        return 1


class Transport(filesystem.Transport):
    """kombu's file-system transport with acknowledgements, and Celery's event loop.

    kombu's transport says it has no event loop: Celery's worker then polls it in a
    blocking loop and runs billiard's classic pool, whose idle processes share one
    queue; the one waiting for the next task holds that queue's read lock, and when it
    is SIGKILLed (the OOM killer) every other and every new pool process waits for the
    lock forever. With the event loop (``asynchronous``) the worker runs its hub and
    the async pool (one pipe per pool process, as with Redis); the folder has no file
    descriptor to watch, so the hub polls it every ``polling_interval`` seconds.
    """

    Channel = Channel
    implements = filesystem.Transport.implements.extend(asynchronous=True)

    #: the most messages one poll of the event loop delivers before the loop serves
    #: its other events (the rest follow at once: the QoS bounds them anyway)
    poll_burst = 100

    _poll_entry: Any = None
    _poll_more: Any = None

    def register_with_event_loop(self, connection: Any, loop: Any) -> None:
        """Poll the folder on Celery's hub (the worker's event loop)."""
        self._cancel_polls()
        interval = max(float(self.polling_interval or 0), 0.01)
        self._poll_entry = loop.call_repeatedly(interval, self._on_poll, connection, loop)

    def unregister_from_event_loop(self, connection: Any, loop: Any) -> None:
        self._cancel_polls()

    def close_connection(self, connection: Any) -> None:
        self._cancel_polls()
        super().close_connection(connection)

    def _cancel_polls(self) -> None:
        for entry in (self._poll_entry, self._poll_more):
            if entry is not None:
                entry.cancel()
        self._poll_entry = self._poll_more = None

    def _on_poll(self, connection: Any, loop: Any, more: bool = False) -> None:
        if more:
            self._poll_more = None
        elif self._poll_more is not None:
            return  # a burst goes on already
        channels: list[Channel] = list(self.channels or ())
        for channel in channels:
            # also when the QoS allows no message (every pool process busy), so the
            # claims of a dead worker are put back for the other workers
            channel.maybe_recover()
        for _ in range(self.poll_burst):
            try:
                # one message of one of the channels the QoS allows, never waiting
                self.drain_events(connection, timeout=0)
            except TimeoutError:
                return  # nothing more waiting (or allowed)
        self._poll_more = loop.call_soon(self._on_poll, connection, loop, True)


__all__ = ["Channel", "QoS", "Transport"]
