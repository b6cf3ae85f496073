"""Run one web node without gunicorn: `python -m web.serve --async-mode eventlet --port 8000`.

gunicorn's gevent worker is the production default (deploy/gunicorn.conf.py);
this entry point serves the eventlet alternative (gunicorn 26+ has no eventlet
worker), and tests start real servers with it in every async mode. The green
thread library must patch the standard library before anything else is
imported, so this module imports the app only after patching.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from typing import Any

# As gunicorn's (its default): connections a listener accepts wait this many deep.
BACKLOG = 2048


def _patch(mode: str) -> None:
    if mode == "gevent":
        from gevent import monkey

        monkey.patch_all()
    elif mode == "eventlet":
        import eventlet

        eventlet.monkey_patch()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("WEB_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("WEB_PORT", "8000")))
    parser.add_argument(
        "--async-mode",
        choices=["gevent", "eventlet", "threading"],
        default=os.environ.get("SOCKETIO_ASYNC_MODE") or "gevent",
    )
    args = parser.parse_args(argv)
    _patch(args.async_mode)
    os.environ["SOCKETIO_ASYNC_MODE"] = args.async_mode

    from web import create_app
    from web.extensions import socketio

    app = create_app()
    print(f"Vitrine web node ({args.async_mode}) on http://{args.host}:{args.port}", flush=True)
    if args.async_mode == "threading":
        socketio.run(
            app, host=args.host, port=args.port, allow_unsafe_werkzeug=True, log_output=False
        )
    else:
        serve_green(app, args.async_mode, nodelay_listener(args.host, args.port))
    sys.exit(0)


def nodelay_listener(host: str, port: int) -> socket.socket:
    """The node's listening socket, with Nagle's algorithm off (TCP_NODELAY, which Linux
    hands on to every connection it accepts), as gunicorn sets its own.

    Why: gevent's and eventlet's servers send a response's headers and its body in two
    writes (gevent/gevent#1233). With Nagle on, the body of a second request on a
    keep-alive connection waited for the client's acknowledgement of the headers, which
    the client delays by up to 40 ms: every request after a connection's first took
    44 ms on loopback instead of 1.5 (docs/performance.md). flask_socketio's `run()`
    opens its listener without the option, so this module opens it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    return sock


def serve_green(app: Any, mode: str, listener: socket.socket) -> None:
    """What flask_socketio's `run()` does for these modes (its middleware is the app's
    WSGI entry: `app` here is the Flask app it wraps), on the listener given."""
    if mode == "gevent":
        from gevent import pywsgi

        # WebSockets come from simple-websocket through Engine.IO, not a handler class.
        listener.setblocking(False)
        pywsgi.WSGIServer(listener, app, log=None).serve_forever()
    else:
        import eventlet.wsgi

        eventlet.wsgi.server(listener, app, log_output=False)


if __name__ == "__main__":
    main()
