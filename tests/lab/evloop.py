"""A tiny single-threaded event loop: file descriptors plus timers.

Everything in the lab daemon (delay line, DNS, echo listeners, control
channel) runs on this one loop, so no locks are needed and a timer fires
with sub-millisecond precision (select() wakes exactly at the next deadline).
"""

import heapq
import itertools
import select
import time


def now_ms():
    """Monotonic clock in milliseconds (float)."""
    return time.monotonic() * 1000.0


class Loop:
    """Readable-fd callbacks and one-shot timers."""

    def __init__(self):
        self._readers = {}
        self._timers = []
        self._seq = itertools.count()
        self.running = False

    def add_reader(self, fd, callback):
        """Call callback() whenever fd is readable."""
        self._readers[fd] = callback

    def remove_reader(self, fd):
        self._readers.pop(fd, None)

    def call_at(self, due_ms, callback, *args):
        """Run callback(*args) at monotonic time due_ms."""
        # The sequence number keeps equal deadlines in FIFO order, which
        # preserves packet order through the delay line.
        heapq.heappush(self._timers, (due_ms, next(self._seq), callback, args))

    def call_later(self, delay_ms, callback, *args):
        self.call_at(now_ms() + delay_ms, callback, *args)

    def run(self):
        """Run until stop() is called."""
        self.running = True
        while self.running:
            self._run_due_timers()
            if not self.running:
                break
            timeout = None
            if self._timers:
                timeout = max(0.0, (self._timers[0][0] - now_ms()) / 1000.0)
            fds = list(self._readers)
            try:
                ready, _, _ = select.select(fds, [], [], timeout)
            except InterruptedError:
                continue
            for fd in ready:
                callback = self._readers.get(fd)
                if callback is not None:
                    callback()

    def _run_due_timers(self):
        t = now_ms()
        while self._timers and self._timers[0][0] <= t:
            _, _, callback, args = heapq.heappop(self._timers)
            callback(*args)

    def stop(self):
        self.running = False
