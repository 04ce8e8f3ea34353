"""``python -m studio``: the same as the ``studio`` command."""

from studio.cli import main

raise SystemExit(main())
