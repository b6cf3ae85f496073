"""gunicorn settings for a Vitrine web node.

One worker per node: Socket.IO keeps per-connection state in the worker, so
scale out with more nodes behind a sticky load balancer and REDIS_URL set
(see docs/scaling.md), not with more workers. The gevent-websocket worker is
gevent plus WebSocket upgrades (Flask-SocketIO's documented gevent setup).
"""

import os

bind = os.environ.get("WEB_BIND", "127.0.0.1:8000")
workers = 1
worker_class = "geventwebsocket.gunicorn.workers.GeventWebSocketWorker"
worker_connections = int(os.environ.get("WEB_WORKER_CONNECTIONS", "2000"))
timeout = 60
graceful_timeout = 10
accesslog = os.environ.get("WEB_ACCESS_LOG", "-")
