"""The `passnum` command line: parse, call a staff handler, format."""
