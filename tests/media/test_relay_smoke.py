from __future__ import annotations

import asyncio

import pytest

from streaming.client import view
from streaming.framecode import read_stamp
from streaming.synthetic import publish

from .conftest import GrantFactory, RunningRelay

pytestmark = [pytest.mark.media, pytest.mark.anyio]


async def test_smoke(relay: RunningRelay, grant: GrantFactory) -> None:
    pub = await publish(relay.url, grant("r1", "publish"))
    viewer = await view(relay.url, grant("r1", "view"))
    for _ in range(10):
        frame = await asyncio.wait_for(viewer.video.recv(), 5)
        print(frame.width, frame.height, read_stamp(frame.to_ndarray(format="bgr24")))
    await viewer.close()
    await pub.close()
