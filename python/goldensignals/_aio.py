"""The event loop that runs coroutine agents: one per runtime, on a daemon thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any


class LoopThread:
    """An asyncio loop running forever on its own thread until :meth:`close`."""

    def __init__(self, name: str = "goldensignals-asyncio") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, coro: Any, timeout: float, callback: Callable[[Any], None]) -> None:
        """Runs ``coro`` with a timeout; ``callback(concurrent_future)`` when it ends."""
        fut = asyncio.run_coroutine_threadsafe(asyncio.wait_for(coro, timeout), self.loop)
        fut.add_done_callback(callback)

    def close(self) -> None:
        if self.loop.is_closed():
            return
        if threading.current_thread() is self._thread:  # closed from a coroutine agent
            self.loop.call_soon(self.loop.stop)
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            # Cancel what is still pending (agents past their deadlines) before closing.
            pending = asyncio.all_tasks(self.loop)
            for task in pending:
                task.cancel()
            if pending:
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self.loop.close()
