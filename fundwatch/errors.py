"""Errors a user can act on.

:class:`InputError` is bad input or usage: the CLI prints its one-line message on stderr and
exits 2, never a traceback. Anything else that escapes is an internal error (exit 1).
"""

from __future__ import annotations


class FundwatchError(Exception):
    """Base of fundwatch's own errors."""


class InputError(FundwatchError):
    """Bad input or usage. The message is one line naming the file/dataset and the fix."""

    def __init__(self, message: str, *, path: str | None = None, dataset: str | None = None):
        self.path = path
        self.dataset = dataset
        super().__init__(" ".join(str(message).split()))


class StoreBusyError(FundwatchError):
    """Another run holds the lead store; the message says what to do."""


class InjectedFault(FundwatchError):
    """Raised at ``settings.runtime.fail_at_step`` to test crash safety."""
