"""A task that kills the process running it: what a segfault or the OOM killer does."""

from __future__ import annotations

import os
import signal

from celery import shared_task

from worker.guard import GuardedTask


@shared_task(name="tests.crash", base=GuardedTask)
def crash() -> None:
    """Die mid-task, every time it is delivered."""
    os.kill(os.getpid(), signal.SIGKILL)
