"""``python -m streaming --host 127.0.0.1 --port 8001 [--dev]``"""

from __future__ import annotations

import argparse
import logging
import sys

from aiohttp import web

from .config import ConfigError, RelayConfig
from .server import AccessLogger, create_app, new_event_loop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m streaming", description="Vitrine media relay")
    parser.add_argument("--host", help="listen address (env RELAY_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="listen port (env RELAY_PORT, default 8001)")
    parser.add_argument(
        "--dev", action="store_true", help='allow the "dev-media-secret" grant secret'
    )
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    try:
        config = RelayConfig.from_env(host=args.host, port=args.port, dev=args.dev)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    web.run_app(
        create_app(config),
        host=config.host,
        port=config.port,
        print=None,
        loop=new_event_loop(),
        access_log_class=AccessLogger,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
