"""Prometheus metrics per room, read from the relay at scrape time.

A collector bound to one relay (in its own registry) rather than module-level
metric objects: tests can run several relays in one process.

Only public shows are labelled by name: every other room (consultations, a
shopper's camera) is summed under ``room="private"``, so even the internal
scrape lists no consultation. The route itself needs the internal token.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .relay import Relay

STATE_VALUES = {"none": 0, "live": 1, "reconnecting": 2}
PRIVATE_LABEL = "private"


class RelayCollector(Collector):
    def __init__(self, relay: Relay) -> None:
        self.relay = relay

    def collect(self) -> Iterator[Metric]:
        now = time.monotonic()
        viewers = GaugeMetricFamily("relay_room_viewers", "Connected viewers", labels=["room"])
        bitrate = GaugeMetricFamily(
            "relay_room_bitrate_bps", "Encoded H.264 bitrate, last 2 s", labels=["room"]
        )
        state = GaugeMetricFamily(
            "relay_room_publisher_state", "0 none, 1 live, 2 reconnecting", labels=["room"]
        )
        sent = CounterMetricFamily(
            "relay_room_frames_sent", "Video frames sent to viewers", labels=["room"]
        )
        dropped = CounterMetricFamily(
            "relay_room_frames_dropped", "Video frames dropped for slow viewers", labels=["room"]
        )
        encoded = CounterMetricFamily(
            "relay_room_frames_encoded", "Frames encoded once", labels=["room"]
        )
        received = CounterMetricFamily(
            "relay_room_frames_received", "Decoded frames from the publisher", labels=["room"]
        )
        keyframes = CounterMetricFamily(
            "relay_room_keyframes", "Keyframes encoded", labels=["room"]
        )
        families: tuple[GaugeMetricFamily | CounterMetricFamily, ...] = (
            viewers,
            bitrate,
            state,
            sent,
            dropped,
            encoded,
            keyframes,
            received,
        )
        totals: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(families))
        for name, room in self.relay.rooms.items():
            total_sent, total_dropped = room.viewer_totals()
            values = (
                room.viewer_count,
                room.stats.bitrate(now),
                # Summed over private rooms: how many are live (or reconnecting, 2 each).
                STATE_VALUES[room.state],
                total_sent,
                total_dropped,
                room.stats.frames_encoded,
                room.stats.keyframes,
                room.stats.frames_in,
            )
            row = totals[name if room.public else PRIVATE_LABEL]
            for index, value in enumerate(values):
                row[index] += value
        for label, row in totals.items():
            for family, value in zip(families, row, strict=True):
                family.add_metric([label], value)
        peers = GaugeMetricFamily("relay_peers", "Open peer connections")
        peers.add_metric([], len(self.relay.peers))
        yield from (viewers, bitrate, state, sent, dropped, received, encoded, keyframes, peers)


def make_registry(relay: Relay) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RelayCollector(relay))
    return registry
