"""``python -m monoculture.cli``: the same as the ``monoculture`` command."""

from monoculture.cli.main import main

main()
