"""gunicorn settings for a Vitrine web node.

One worker per node: Socket.IO keeps per-connection state in the worker, so
scale out with more nodes behind a sticky load balancer and REDIS_URL set
(see docs/scaling.md), not with more workers.

The worker is gunicorn's plain gevent worker. WebSocket upgrades are handled by
python-engineio itself with simple-websocket (Flask-SocketIO's current setup);
gevent-websocket, unmaintained, is not used. Engine.IO's gevent driver still
prefers gevent-websocket whenever it can import it, and then expects that
package's own worker: a node with it installed would accept no WebSocket, so it
refuses to start instead (``pip uninstall gevent-websocket``).
"""

import importlib.util
import os

bind = os.environ.get("WEB_BIND", "127.0.0.1:8000")
workers = 1
worker_class = "gevent"
worker_connections = int(os.environ.get("WEB_WORKER_CONNECTIONS", "2000"))
timeout = 60
graceful_timeout = 10
# The app writes one structured line per request (with its request id): gunicorn's own
# access log is off unless WEB_ACCESS_LOG names a file ("-": standard output).
accesslog = os.environ.get("WEB_ACCESS_LOG") or None
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms id=%({x-request-id}o)s'
# gunicorn 25+ opens a control socket at one fixed path per user: every node of a host
# would take the same one from the node before. Nothing here uses it (gunicornc).
control_socket_disable = True


def on_starting(server: object) -> None:
    if importlib.util.find_spec("geventwebsocket") is not None:
        raise RuntimeError(
            "gevent-websocket is installed: Engine.IO would use it and refuse every WebSocket "
            "under gunicorn's gevent worker. Remove it: pip uninstall gevent-websocket"
        )
