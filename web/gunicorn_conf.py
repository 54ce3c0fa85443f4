"""gunicorn's settings for the UI: `gunicorn --config python:web.gunicorn_conf web.wsgi:app`."""

from __future__ import annotations

from typing import Any

import gunicorn.http.wsgi


def on_starting(server: Any) -> None:
    """Answer without naming the server software and its version («Server: gunicorn»).

    gunicorn has no setting for its Server header; every response takes it from this module's
    constant, so it is set once in the master, before the workers are forked.
    """
    gunicorn.http.wsgi.SERVER = "roadmap"
