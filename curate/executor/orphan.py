"""Worker processes that exit when the process that started them dies.

A ``kill -9`` of the driver gives its worker processes no chance to be told; without this they
would finish their queued work (or wait forever) as orphans. A daemon thread in each worker
watches its parent's pid and ends the process once the parent is gone: the worker is then
re-parented (to init or a subreaper), so ``os.getppid()`` changes.
"""

from __future__ import annotations

import os
import threading
import time

#: Seconds between two looks at the parent.
POLL_SECONDS = 0.5


def _watch(parent: int) -> None:
    while True:
        time.sleep(POLL_SECONDS)
        if os.getppid() != parent:
            # Not sys.exit: that only ends this thread, and atexit handlers could block.
            os._exit(70)


def exit_with_parent(parent: int) -> None:
    """Exit when ``parent`` (the pid of the process that started this one) is gone.

    The pid comes from the parent itself: the parent may die while this process is still
    importing, before it could ask who its parent is.
    """
    if os.getppid() != parent:
        os._exit(70)
    if any(t.name == "curate-orphan-watch" for t in threading.enumerate()):
        return
    threading.Thread(target=_watch, args=(parent,), name="curate-orphan-watch", daemon=True).start()
