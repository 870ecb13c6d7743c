"""``python -m oceaninterp``: the same command line as ``oceaninterp``."""

from oceaninterp.cli.app import main

main()
