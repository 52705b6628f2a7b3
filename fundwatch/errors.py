"""Errors a user can act on.

:class:`InputError` is bad input or usage: the CLI prints its one-line message on stderr and
exits 2, never a traceback. Anything else that escapes is an internal error (exit 1).
"""

from __future__ import annotations


class FundwatchError(Exception):
    """Base of fundwatch's own errors."""


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


class InputError(FundwatchError):
    """Bad input or usage. The message is one line naming the file/dataset and the fix.

    Parameters
    ----------
    message : the English message (``str(error)``: logs, Prefect, English CLI).
    zh : the same message in Chinese, for a user whose command line speaks Chinese
        (``--lang zh`` or a Chinese locale); file names, columns and options stay as written.
    path, dataset : the file or dataset it is about, for callers that point at it.
    """

    def __init__(self, message: str, *, zh: str | None = None, path: str | None = None, dataset: str | None = None):
        self.path = path
        self.dataset = dataset
        self.message_zh = _one_line(zh) if zh else None
        super().__init__(_one_line(message))

    def in_language(self, lang: str) -> str:
        """The message in ``lang`` (``zh`` or ``en``); English where no Chinese was given."""
        return self.message_zh if lang == "zh" and self.message_zh else str(self)


class StoreBusyError(FundwatchError):
    """Another run holds the lead store; the message says what to do."""


class InjectedFault(FundwatchError):
    """Raised at ``settings.runtime.fail_at_step`` to test crash safety."""
