"""The command line (`python -m metrics`), on top of every other part; no part imports it."""
