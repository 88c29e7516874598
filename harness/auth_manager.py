"""The system deployment's auth manager: Airflow's simple auth manager, with users kept out of DAGs.

The simple auth manager gives a role the same rights on every DAG, so "a user without access to
that DAG" cannot be seen with it alone. This subclass keeps its users, passwords, login and roles,
and limits the users named in ``KLING_SYSTEM_DAG_ACCESS`` (JSON: ``{"user": ["dag_id", ...]}``) to
the DAGs listed for them. Every other decision is the simple auth manager's.
"""

from __future__ import annotations

import json
import os
from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

from harness.cluster import ACCESS_ENV


def dag_access() -> dict[str, list[str]]:
    """Each limited user's readable DAGs, from the environment."""
    return json.loads(os.environ.get(ACCESS_ENV) or "{}")


class DagLimitedAuthManager(SimpleAuthManager):
    """The simple auth manager, where the users of :data:`ACCESS_ENV` may only reach their DAGs."""

    def is_authorized_dag(self, *, method: Any, user: Any, access_entity: Any = None, details: Any = None) -> bool:
        allowed = dag_access().get(user.username)
        if allowed is not None and details is not None and details.id not in allowed:
            return False
        return super().is_authorized_dag(method=method, user=user, access_entity=access_entity, details=details)
