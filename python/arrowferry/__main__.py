"""``python -m arrowferry``: the command line."""

from arrowferry.cli import main

main()
