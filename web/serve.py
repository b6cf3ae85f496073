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
import sys


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
    socketio.run(app, host=args.host, port=args.port, allow_unsafe_werkzeug=True, log_output=False)
    sys.exit(0)


if __name__ == "__main__":
    main()
