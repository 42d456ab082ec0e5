"""gunicorn's configuration for the production topology (docs/operations.md, `make serve`):
`gunicorn portal.asgi:application` from the repository's top picks it up.

Every process is a uvicorn worker serving HTTP and WebSockets; sockets of one consult may land
on different processes, which share rooms through channels-redis. How many processes for a
machine: WEB_CONCURRENCY (default: cores + 1, which kept both cores of a 2-core box busy beside
PostgreSQL in bench/http_rush.py; see docs/operations.md for 2 and 16 cores). Each process runs
its requests on WEB_THREADS threads (portal/asgi.py; default 4, at most DATABASE_POOL_MAX)."""

import multiprocessing
import os

bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
worker_class = "portal.serving.PortalUvicornWorker"
# A rush holds thousands of sockets open at once; the kernel's queue must not refuse them first.
backlog = int(os.environ.get("WEB_BACKLOG", "2048"))
# Each worker listens on a socket of its own (SO_REUSEPORT) and the kernel spreads new
# connections over them. On one shared socket the first worker to wake accepted a whole burst:
# 100 clients of bench/http_rush.py fell 68/24/8 on three workers, whose CPU went 0.78/0.24/
# 0.09 cores while the bookings waited on the first. A worker that exits drops the connections
# still waiting in its own queue unless the kernel hands them on (net.ipv4.tcp_migrate_req=1,
# docs/operations.md). WEB_REUSE_PORT=false goes back to one shared socket.
reuse_port = os.environ.get("WEB_REUSE_PORT", "true").lower() not in ("0", "false", "no")
# Kept-alive connections from the proxy (and the bench) are reused between requests.
keepalive = int(os.environ.get("WEB_KEEPALIVE", "5"))
# A worker that answers nothing for this long is killed and replaced (sockets stay open: the
# heartbeat is the worker's, not the request's).
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = 30
# Access logs cost a write per request; the proxy keeps them (with $request_id).
accesslog = os.environ.get("WEB_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# No `gunicornc` control socket: its default path is per user, shared by every gunicorn on the
# machine (two deployments, or the bench beside `make serve`, would fight over it).
control_socket_disable = True
