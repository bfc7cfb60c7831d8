"""``python -m automl``: the ``automl`` command (``automl.shell.cli``)."""
import sys

from .shell.cli import main

sys.exit(main())
