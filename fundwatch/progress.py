"""Progress of a run's steps, for people watching a terminal.

The flow reports each step (load, validate, every detector, rank, report, store) as it
starts and ends; by default nobody listens. The CLI installs :class:`TerminalProgress` when
stderr is a terminal, and stays silent otherwise (cron, CI, pipes, Prefect workers).
"""

from __future__ import annotations

import sys
import threading
import time


class NullProgress:
    """Listens to nothing."""

    def started(self, step: str) -> None:
        pass

    def finished(self, step: str, ok: bool = True) -> None:
        pass

    def close(self) -> None:
        pass


class TerminalProgress(NullProgress):
    """One line per step on stderr: a spinner while it runs, then ✓/✗ and its seconds."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
            console=Console(stderr=True), transient=False,
        )
        self._progress.start()
        self._tasks: dict[str, int] = {}
        self._t0: dict[str, float] = {}
        self._lock = threading.Lock()  # detector tasks report from several threads

    def started(self, step: str) -> None:
        with self._lock:
            self._t0[step] = time.perf_counter()
            self._tasks[step] = self._progress.add_task(step, total=1)

    def finished(self, step: str, ok: bool = True) -> None:
        with self._lock:
            task = self._tasks.get(step)
            if task is None:
                return
            mark = "[green]✓[/]" if ok else "[red]✗[/]"
            self._progress.update(task, completed=1, description=f"{mark} {step}")

    def close(self) -> None:
        self._progress.stop()


_current: NullProgress = NullProgress()


def current() -> NullProgress:
    """The progress listener of this process."""
    return _current


def install(listener: NullProgress) -> None:
    global _current
    _current = listener


def for_terminal() -> NullProgress:
    """A :class:`TerminalProgress` when stderr is a terminal, else :class:`NullProgress`."""
    return TerminalProgress() if sys.stderr.isatty() else NullProgress()
