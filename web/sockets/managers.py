"""Socket.IO client managers that can disconnect a whole room, on every node.

python-socketio disconnects one sid at a time, and with a message queue each node
knows only its own rooms' members. Ending a staff member's sessions must close
their sockets wherever they are, so the request travels the queue as a reserved
"emit" that each node answers by disconnecting its own members of the room
(instead of sending the event to them). Without a queue the same call acts on
this node's members only, which are all of them.
"""

from __future__ import annotations

from typing import Any

import socketio

# Never a real event name: the receiving node disconnects instead of emitting it.
DISCONNECT_ROOM = "vitrine:disconnect-room"


class _DisconnectsRooms:
    server: Any
    get_participants: Any

    def _disconnect_local(self, room: str, namespace: str) -> None:
        for sid, _eio_sid in list(self.get_participants(namespace, room)):
            self.server.disconnect(sid, namespace=namespace, ignore_queue=True)


class LocalManager(_DisconnectsRooms, socketio.Manager):
    """One node, no queue."""

    def disconnect_room(self, room: str, namespace: str = "/") -> None:
        self._disconnect_local(room, namespace)


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

    def _handle_emit(self, message: dict[str, Any]) -> None:
        if message.get("event") == DISCONNECT_ROOM:
            self._disconnect_local(str(message.get("room")), message.get("namespace") or "/")
            return
        super()._handle_emit(message)


def make_manager(redis_url: str | None, channel: str) -> socketio.Manager:
    if redis_url:
        return RedisManager(redis_url, channel=channel)
    return LocalManager()


def disconnect_room(server: socketio.Server, room: str) -> None:
    manager = server.manager
    if isinstance(manager, LocalManager | RedisManager):
        manager.disconnect_room(room)
        return
    for sid, _eio_sid in list(manager.get_participants("/", room)):  # a foreign manager
        server.disconnect(sid)
