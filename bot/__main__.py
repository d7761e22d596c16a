"""``python -m bot``: the same as the ``smsbot`` console script."""

from bot.cli import main

raise SystemExit(main())
