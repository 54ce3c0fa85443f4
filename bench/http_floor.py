"""The bare HTTP floor: a Flask view that does one compare-and-set UPDATE and renders nothing.

Served by the same gunicorn command as the product (`gunicorn bench.http_floor:app`), against
the same database (FLOOR_DATABASE_URL), so what the product adds shows as the difference.
"""

from __future__ import annotations

import os
import threading

import psycopg
from flask import Flask

app = Flask(__name__)
_local = threading.local()


def _connection() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = psycopg.connect(os.environ["FLOOR_DATABASE_URL"], autocommit=True)
    return conn


@app.post("/floor/<int:occurrence_id>")
def approve(occurrence_id: int) -> tuple[str, int]:
    """Approve one occurrence if it is still open: 204 when this request changed it."""
    changed = (
        _connection()
        .execute(
            "UPDATE occurrence SET state = 'approved', version = version + 1 "
            "WHERE id = %s AND state <> 'approved'",
            (occurrence_id,),
        )
        .rowcount
    )
    return "", 204 if changed == 1 else 409
