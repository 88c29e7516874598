"""One aiohttp session per event loop, shared by every trigger running on it.

The triggerer runs all deferred tasks in one event loop. A session per poll (the dbt Cloud
provider's pattern) pays a TCP and TLS handshake for every poll; one shared session keeps a small
pool of kept-alive connections for the whole loop. Auth headers are sent per request, so triggers
for different connections share the pool safely.

The session is leased: each trigger holds a lease for its whole wait (and hands the session to its
hook), any other request one for its own duration. The last lease to end closes the session, so short-lived loops (``airflow dags test``,
tests) do not leak it, while a busy triggerer keeps one session for as long as anything waits.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import aiohttp

#: Connections kept open to one host at most; polls beyond it wait for a free connection.
MAX_CONNECTIONS_PER_HOST = 64


@dataclass
class _Lease:
    session: aiohttp.ClientSession
    holders: int = 0


_leases: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Lease] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def leased_session() -> AsyncIterator[aiohttp.ClientSession]:
    """The running loop's shared session, kept open at least until this block ends."""
    import aiohttp

    loop = asyncio.get_running_loop()
    lease = _leases.get(loop)
    if lease is None or lease.session.closed:
        connector = aiohttp.TCPConnector(limit=0, limit_per_host=MAX_CONNECTIONS_PER_HOST, ttl_dns_cache=300)
        lease = _Lease(aiohttp.ClientSession(connector=connector))
        _leases[loop] = lease
    lease.holders += 1
    try:
        yield lease.session
    finally:
        lease.holders -= 1
        if lease.holders == 0 and _leases.get(loop) is lease:
            del _leases[loop]
            await lease.session.close()


def open_sessions() -> int:
    """How many shared sessions are open across loops (for tests)."""
    return sum(1 for lease in _leases.values() if not lease.session.closed)
