"""The benchmark harness: `make bench`, or `python -m bench.run --help`."""
