"""``python -m paneglass`` runs the same CLI as the ``paneglass`` script."""

from paneglass.cli import main

raise SystemExit(main())
