"""Socket.IO client managers that can disconnect a whole room, on every node.

python-socketio disconnects one sid at a time, and with a message queue each node
knows only its own rooms' members. Ending a staff member's sessions must close
their sockets wherever they are, so the request travels the queue as a reserved
"emit" that each node answers by disconnecting its own members of the room
(instead of sending the event to them). Without a queue the same call acts on
this node's members only, which are all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import socketio

# Never a real event name: the receiving node disconnects instead of emitting it.
DISCONNECT_ROOM = "vitrine:disconnect-room"


# Told of every emit this node delivers, local or from the queue: (event, room or rooms).
# The room-state copies listen (web/sockets/snapshots.py).
EmitListener = Callable[[str, Any], None]


def _ignore(_event: str, _rooms: Any) -> None:
    return None


class _DisconnectsRooms:
    server: Any
    get_participants: Any
    on_emit: EmitListener = staticmethod(_ignore)

    def _disconnect_local(self, room: str, namespace: str) -> None:
        for sid, _eio_sid in list(self.get_participants(namespace, room)):
            self.server.disconnect(sid, namespace=namespace, ignore_queue=True)


class LocalManager(_DisconnectsRooms, socketio.Manager):
    """One node, no queue."""

    def disconnect_room(self, room: str, namespace: str = "/") -> None:
        self._disconnect_local(room, namespace)

    def emit(self, event: str, data: Any, namespace: str, room: Any = None, **kwargs: Any) -> Any:
        self.on_emit(event, kwargs.get("to") or room)
        return super().emit(event, data, namespace, room=room, **kwargs)


class RedisManager(_DisconnectsRooms, socketio.RedisManager):
    """Several nodes sharing Redis: the request reaches every node through the queue."""

    def disconnect_room(self, room: str, namespace: str = "/") -> None:
        message = {
            "method": "emit",
            "event": DISCONNECT_ROOM,
            "data": [],
            "namespace": namespace,
            "room": room,
            "skip_sid": None,
            "callback": None,
            "host_id": self.host_id,
        }
        self._disconnect_local(room, namespace)
        self._publish(message)

    def emit(
        self, event: str, data: Any, namespace: Any = None, room: Any = None, **kwargs: Any
    ) -> Any:
        if kwargs.get("ignore_queue"):  # delivered here only, without passing _handle_emit
            self.on_emit(event, kwargs.get("to") or room)
        return super().emit(event, data, namespace=namespace, room=room, **kwargs)

    def _handle_emit(self, message: dict[str, Any]) -> None:
        if message.get("event") == DISCONNECT_ROOM:
            self._disconnect_local(str(message.get("room")), message.get("namespace") or "/")
            return
        # Every emit passes here on every node, this one's own included (python-socketio
        # hands a node its own emits before publishing them).
        self.on_emit(str(message.get("event")), message.get("room"))
        super()._handle_emit(message)


def make_manager(
    redis_url: str | None, channel: str, on_emit: EmitListener | None = None
) -> socketio.Manager:
    manager: LocalManager | RedisManager
    manager = RedisManager(redis_url, channel=channel) if redis_url else LocalManager()
    if on_emit is not None:
        manager.on_emit = on_emit
    return manager


def disconnect_room(server: socketio.Server, room: str) -> None:
    manager = server.manager
    if isinstance(manager, LocalManager | RedisManager):
        manager.disconnect_room(room)
        return
    for sid, _eio_sid in list(manager.get_participants("/", room)):  # a foreign manager
        server.disconnect(sid)
