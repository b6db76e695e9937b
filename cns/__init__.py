"""The `cns` command line: run the local stack, train, migrate (and later: desk, reports)."""
