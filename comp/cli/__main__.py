"""``python -m comp.cli``: the ``comp`` command."""

import sys

from comp.cli import main

sys.exit(main())
