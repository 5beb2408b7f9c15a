"""Read and convert on one thread while the COPY streams on another.

The driver pulls batches for COPY from a Python iterator, so without help SQLite
reading, conversion and the server's parsing take turns. A bounded queue lets the
next batches be read and converted while the current one is on the wire; memory
stays bounded by ``depth`` batches. The source may be several pieces of a table
(rowid ranges), read one after another. The same queue, one level down, lets a
server's stream be read while the batch before it is converted (``read_ahead``).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

C = TypeVar("C")
T = TypeVar("T")
_DONE = object()


class Prefetch(Generic[C, T]):
    """Iterate ``work(piece)`` for every piece on a background thread, ``depth`` items ahead."""

    def __init__(
        self, pieces: Iterable[C], work: Callable[[C], Iterator[T]], depth: int = 2
    ) -> None:
        self.pieces = pieces
        self.work = work
        self.items: queue.Queue[object] = queue.Queue(maxsize=depth)
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._produce, name="arrowferry-read", daemon=True)
        self.thread.start()

    def _produce(self) -> None:
        try:
            for piece in self.pieces:
                items = self.work(piece)
                try:
                    for item in items:
                        if not self._put(item):
                            return
                finally:
                    close = getattr(items, "close", None)
                    if close is not None:
                        close()  # closes the reader's cursor on the thread that used it
        except BaseException as err:  # handed to the consumer, raised there
            self.error = err
        finally:
            self._put(_DONE)

    def _put(self, item: object) -> bool:
        while not self.stop.is_set():
            try:
                self.items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[T]:
        try:
            while True:
                item = self.items.get()
                if item is _DONE:
                    if self.error is not None:
                        raise self.error
                    return
                yield item  # type: ignore[misc]
        finally:
            self.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
