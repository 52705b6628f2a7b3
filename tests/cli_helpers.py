"""Run the ``fundwatch`` command line inside the test process.

Process start-up (Python, polars, Great Expectations imports) costs seconds per call; tests of
what the CLI prints and returns call :func:`fundwatch.cli.main` directly instead. A few smoke
tests still start real processes (the demo, SIGKILL, concurrent scans, a real Prefect server).
"""

from __future__ import annotations

import io
import os
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass


@dataclass
class CliResult:
    """What a command returned and printed, like ``subprocess.CompletedProcess``."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(*args, env: dict[str, str] | None = None) -> CliResult:
    """``fundwatch ARGS`` in this process: exit code, standard output and standard error."""
    from fundwatch import cli

    updates = {"FUNDWATCH_DEBUG": None, **(env or {})}
    saved = {k: os.environ.get(k) for k in updates}
    for k, v in updates.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    out, err = io.StringIO(), io.StringIO()
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = cli.main([str(a) for a in args])
            except SystemExit as exc:  # argparse: --help (0) and usage errors (2)
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return CliResult(code, out.getvalue(), err.getvalue())
