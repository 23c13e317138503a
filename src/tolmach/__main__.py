"""``python -m tolmach`` runs the command line."""

from tolmach.cli import main

main()
