"""The baseline: aiortc's stock ``MediaRelay`` behind the same ``POST /signal`` API.

Every viewer gets ``relay.subscribe(publisher_track)`` and its own RTCRtpSender,
so every viewer's sender encodes the video again. This is what the Vitrine relay
is measured against. Grants are checked the same way so the publisher and the
load generator need no special case.

    python -m bench.relay.baseline --port 8011 --grant-secret S
"""

from __future__ import annotations

import argparse
import secrets

from aiohttp import web
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamTrack

from sessions.grants import verify_grant
from streaming.server import new_event_loop


class BaselineRelay:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.media_relay = MediaRelay()
        self.sources: dict[str, dict[str, MediaStreamTrack]] = {}
        self.peers: dict[str, RTCPeerConnection] = {}

    async def signal(self, request: web.Request) -> web.Response:
        body = await request.json()
        grant = verify_grant(self.secret, body["grant"])
        pc = RTCPeerConnection()
        peer_id = secrets.token_urlsafe(8)
        self.peers[peer_id] = pc
        await pc.setRemoteDescription(RTCSessionDescription(sdp=body["sdp"], type="offer"))
        if grant.role == "publish":
            for transceiver in pc.getTransceivers():
                track = transceiver.receiver.track
                self.sources.setdefault(grant.room, {})[track.kind] = track
        else:
            sources = self.sources.get(grant.room, {})
            for transceiver in pc.getTransceivers():
                source = sources.get(transceiver.kind)
                if source is not None:
                    transceiver.direction = "sendonly"
                    transceiver.sender.replaceTrack(self.media_relay.subscribe(source))
        await pc.setLocalDescription(await pc.createAnswer())
        answer = pc.localDescription
        # peer_token: what streaming.synthetic.publish reads from a Vitrine answer.
        answer_body = {"sdp": answer.sdp, "type": answer.type, "peer_id": peer_id, "peer_token": ""}
        return web.json_response(answer_body)

    async def close_all(self, app: web.Application) -> None:
        for pc in self.peers.values():
            await pc.close()


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8011)
    parser.add_argument("--grant-secret", required=True)
    args = parser.parse_args()
    relay = BaselineRelay(args.grant_secret)
    app = web.Application()
    app.router.add_post("/signal", relay.signal)
    app.router.add_get("/healthz", healthz)
    app.on_shutdown.append(relay.close_all)
    # The same event loop as the Vitrine relay gets, for a fair comparison.
    web.run_app(app, host=args.host, port=args.port, print=None, loop=new_event_loop())


if __name__ == "__main__":
    main()
