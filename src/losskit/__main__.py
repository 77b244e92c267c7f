"""``python -m losskit``: the command line."""

from .cli import main

raise SystemExit(main())
