"""The one thread that owns alert state. Snapshots from the sampler and commands from the API arrive on
one queue and run in that order, so evaluation never sees a half-made change (datasette's write thread).

A snapshot is evaluated; its transitions are recorded with their outbox rows, handed to the dispatcher
and published to browsers. A timer, independent of snapshots, runs the sampler-stalled watchdog and, on
a shared database, reads back acknowledgements hubs wrote. A command is a function of the
``AlertState``; the caller waits for its result or its exception.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from gpu_sentinel.alerts.engine import Instance
from gpu_sentinel.alerts.errors import AlertsUnavailableError
from gpu_sentinel.alerts.events import Transition
from gpu_sentinel.alerts.outbox import OutboxDispatcher
from gpu_sentinel.alerts.state import AlertState, ConfigView
from gpu_sentinel.snapshot import Snapshot
from gpu_sentinel.store.database import DatabaseUnavailableError

log = logging.getLogger(__name__)
T = TypeVar("T")
QUEUE_SIZE = 256
COMMAND_TIMEOUT_S = 10.0
RETENTION_EVERY_S = 3600.0
ACKNOWLEDGEMENT_READ_S = 5.0
"""How often a node on a shared database reads back acknowledgements of its firing alerts (by a hub)."""
EventPublisher = Callable[[dict[str, Any]], None]
Entry = tuple[Transition, list[str], Instance | None]


@dataclass
class _Command:
    run: Callable[[AlertState], Any]
    future: Future[Any] = field(default_factory=Future)


_STOP = object()


class AlertWorker:
    """Runs snapshots and commands against the ``AlertState`` on its own thread, one at a time."""

    def __init__(
        self,
        state: AlertState,
        dispatcher: OutboxDispatcher,
        *,
        watchdog_interval_s: float,
        retention_s: float,
        clock: Callable[[], float],
    ) -> None:
        self._state = state
        self._dispatcher = dispatcher
        self._watchdog_interval_s = watchdog_interval_s
        self._retention_s = retention_s
        self._clock = clock
        self._queue: queue.Queue[Any] = queue.Queue(QUEUE_SIZE)
        self._thread: threading.Thread | None = None
        self._publisher: EventPublisher | None = None
        self._unsaved: list[Entry] = []
        self._next_prune = 0.0
        self._migrated = False
        self.dropped_snapshots = 0

    @property
    def view(self) -> ConfigView:
        """The configuration as of the last finished command (an immutable copy, safe on any thread)."""
        return self._state.view

    def start(self) -> None:
        """Start the thread and load the configuration on it; returns once loaded."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="gpu-sentinel-alerts", daemon=True)
        self._thread.start()
        self.call(self._load, timeout_s=None)
        view = self.view
        log.info("alerting: %d rules, %d channels", len(view.rules), len(view.channels))

    def stop(self, timeout_s: float = 5.0) -> None:
        thread = self._thread
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout_s)
            self._thread = None

    def set_event_publisher(self, publisher: EventPublisher | None) -> None:
        """Where browser notifications go (the live stream's hub); each transition becomes one event."""
        self._publisher = publisher

    def ingest(self, snapshot: Snapshot) -> None:
        """A sampler subscriber: never blocks; a full queue drops the snapshot (the next one follows)."""
        try:
            self._queue.put_nowait(snapshot)
        except queue.Full:
            self.dropped_snapshots += 1

    def call(self, run: Callable[[AlertState], T], timeout_s: float | None = COMMAND_TIMEOUT_S) -> T:
        """Run ``run(state)`` on the worker thread and return its result (or raise its exception)."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            raise AlertsUnavailableError("Alerting is not running")
        command = _Command(run)
        try:
            self._queue.put(command, timeout=COMMAND_TIMEOUT_S)
        except queue.Full as error:
            raise AlertsUnavailableError("Alerting is overloaded; try again") from error
        try:
            return command.future.result(timeout_s)  # type: ignore[no-any-return]
        except TimeoutError as error:
            raise AlertsUnavailableError(
                f"Alerting did not answer within {timeout_s:g} s (its database may be slow); "
                "a change may still be applied"
            ) from error

    # -- on the worker thread ----------------------------------------------------------------------

    def _load(self, state: AlertState) -> None:
        self._migrated = state.load()

    def _run(self) -> None:
        next_watchdog = time.monotonic() + self._watchdog_interval_s
        next_acknowledgements = time.monotonic() + ACKNOWLEDGEMENT_READ_S
        while True:
            try:
                item = self._queue.get(timeout=max(0.0, next_watchdog - time.monotonic()))
            except queue.Empty:
                item = None
            if item is _STOP:
                break
            try:
                transitions = self._process(item)
                if time.monotonic() >= next_watchdog:
                    transitions += self._state.engine.watchdog(self._clock())
                    next_watchdog = time.monotonic() + self._watchdog_interval_s
                if time.monotonic() >= next_acknowledgements:
                    self._read_acknowledgements()
                    next_acknowledgements = time.monotonic() + ACKNOWLEDGEMENT_READ_S
                self._handle(transitions)
                self._maybe_prune()
            except Exception:
                log.exception("alert evaluation failed")

    def _process(self, item: Any) -> list[Transition]:
        if isinstance(item, Snapshot):
            return self._state.engine.evaluate(item)
        if isinstance(item, _Command):
            try:
                item.future.set_result(item.run(self._state))
            except Exception as error:
                item.future.set_exception(error)
            return self._state.take_transitions()
        return []

    def _handle(self, transitions: Sequence[Transition]) -> None:
        engine = self._state.engine
        for transition in transitions:
            channels = self._state.view.channels_for(transition) if transition.notify else []
            instance = (
                engine.instance(transition.rule.id, transition.key)
                if transition.state in ("pending", "firing")
                else None
            )
            self._unsaved.append((transition, channels, instance))
        self._flush()
        publisher = self._publisher
        if publisher is not None:
            for transition in transitions:
                try:
                    publisher({"type": "alert", **transition.payload(), "notify": transition.notify})
                except Exception:
                    log.exception("publishing an alert event failed")

    def _flush(self) -> None:
        if not self._unsaved:
            return
        repository = self._state.repository
        try:
            if not self._migrated:
                repository.migrate()
                self._migrated = True
            items = repository.record(self._unsaved, self._clock())
        except DatabaseUnavailableError as error:
            log.warning("alerts database unavailable, %d transitions wait: %s", len(self._unsaved), error)
            return
        self._unsaved.clear()
        self._dispatcher.submit(items)

    def _read_acknowledgements(self) -> None:
        if not self._state.repository.shared:
            return  # only this process writes a SQLite database's alerts
        try:
            self._state.read_acknowledgements()
        except DatabaseUnavailableError as error:
            log.debug("acknowledgements not read back: %s", error)

    def _maybe_prune(self) -> None:
        now = self._clock()
        if now < self._next_prune:
            return
        self._next_prune = now + RETENTION_EVERY_S
        try:
            self._state.repository.prune(now - self._retention_s)
        except DatabaseUnavailableError as error:
            log.warning("alert history retention postponed: %s", error)
