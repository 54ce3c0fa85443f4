"""Use cases: one module per action, called alike by the web, the API, the CLI and the worker.

Each takes the application first, then the actor and plain values; it opens no transaction of
its own unless its work is one transaction per item (bulk approval), and maps nothing to HTTP.
"""
