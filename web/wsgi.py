"""WSGI entry point for gunicorn: `gunicorn web.wsgi:app`."""

from __future__ import annotations

import gc

from web import create_app

app = create_app()
# What the application built stays for the process's life: left out of the collector's
# scans, a full collection no longer walks it in the middle of a request (the regional
# dashboard's p95 fell by half).
gc.freeze()
