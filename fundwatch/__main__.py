"""``python -m fundwatch`` = the ``fundwatch`` command."""

from .cli import entry

entry()
