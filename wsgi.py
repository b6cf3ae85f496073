"""WSGI entry point: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Under gunicorn's gevent worker the worker patches the standard library before
this module is imported; for eventlet (`SOCKETIO_ASYNC_MODE=eventlet`), use
`python -m web.serve`, which patches first.
"""

from web import create_app

app = create_app()
