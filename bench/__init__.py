"""The benchmark harness of issue 8: `make bench`, or `python -m bench.run --help`."""
