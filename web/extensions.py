"""Extensions created here, bound to the app in the factory."""

from __future__ import annotations

from flask_socketio import SocketIO
from flask_wtf.csrf import CSRFProtect

socketio = SocketIO()
csrf = CSRFProtect()
