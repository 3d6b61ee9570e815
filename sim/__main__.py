"""``python -m sim`` is the `negotiate` command."""

from sim.cli import main

main()
