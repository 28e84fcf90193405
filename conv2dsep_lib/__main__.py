"""``python -m conv2dsep_lib`` = the ``conv2dsep`` command."""

import sys

from .cli import main

sys.exit(main())
