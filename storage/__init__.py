"""Tables, queries, transactions and migrations."""
