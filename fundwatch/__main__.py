"""``python -m fundwatch`` = the ``fundwatch`` command."""

import sys

from .cli import main

sys.exit(main())
