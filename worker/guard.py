"""A delivery counter: a task whose process keeps dying is parked after N tries, not looped."""

from __future__ import annotations

import json
import logging
from typing import Any

import redis
from celery import Task

from worker import resources

log = logging.getLogger(__name__)

PARKED = "roadmap:parked"
COUNTER_TTL = 24 * 3600


def count_delivery(client: redis.Redis, task_id: str) -> int:
    """Count one more delivery of `task_id`; return the total."""
    key = f"roadmap:deliveries:{task_id}"
    pipe = client.pipeline()
    pipe.incr(key)
    pipe.expire(key, COUNTER_TTL)
    return int(pipe.execute()[0])


def park(
    client: redis.Redis, task: str, task_id: str, args: Any, kwargs: Any, deliveries: int
) -> None:
    """Keep a poisoned task where people can see it, instead of running it again."""
    client.rpush(
        PARKED,
        json.dumps(
            {"task": task, "id": task_id, "args": args, "kwargs": kwargs, "deliveries": deliveries}
        ),
    )
    log.error("task %s %s parked after %d deliveries", task, task_id, deliveries)


def parked(client: redis.Redis) -> list[dict[str, Any]]:
    """The parked tasks, oldest first."""
    return [json.loads(raw) for raw in client.lrange(PARKED, 0, -1)]


class GuardedTask(Task):
    """Counts each delivery in Redis; past `max_deliveries` the task is parked and acked."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        task_id = self.request.id
        if task_id is None or self.request.is_eager:
            return super().__call__(*args, **kwargs)
        client = resources.broker()
        deliveries = count_delivery(client, task_id)
        limit = resources.settings().max_deliveries
        if deliveries > limit:
            park(client, self.name, task_id, list(args), kwargs, deliveries)
            return None
        result = super().__call__(*args, **kwargs)
        client.delete(f"roadmap:deliveries:{task_id}")
        return result
