"""The `roadmap` command line: composes the engine, the workflows, the web and the worker."""
