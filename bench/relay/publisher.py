"""The bench's publisher: the synthetic camera, which also says what it sent.

Runs ``streaming.synthetic.publish`` (a public, recorded show, as the web app makes
them) and notes every frame's number and the send time stamped into it. Protocol
with the parent (one line each): prints ``ready`` once publishing; then, for each
``<start> <end>`` line read (wall-clock seconds), prints after ``end`` a JSON list of
the frame numbers due in the window by the camera's steady schedule. Viewers count the
frames they decode against that list, so "frames %" is against the source.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from sessions.grants import issue_grant
from streaming.synthetic import publish


async def run(args: argparse.Namespace) -> None:
    grant = issue_grant(
        args.grant_secret, room=args.room, role="publish", identity="synthetic", ttl=3600,
        public=True, record=True,
    )  # fmt: skip
    publication = await publish(args.relay.rstrip("/"), grant)
    # Frame number -> when the camera's schedule (a steady fps from the first
    # frame) says it is due. A window holds the frames due in it: exactly
    # fps x seconds of them, even when a loaded publisher sends some late in a burst.
    due: dict[int, float] = {}
    track = publication.video
    draw = track.draw
    first: list[tuple[int, float]] = []

    def noting_draw(counter: int, now: float) -> object:
        if not first:
            first.append((counter, now))
        n0, t0 = first[0]
        due[counter] = t0 + (counter - n0) / track.fps
        return draw(counter, now)

    track.draw = noting_draw  # type: ignore[assignment,method-assign]
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    try:
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            start, end = (float(x) for x in line.split())
            await asyncio.sleep(max(0.0, end - time.time()))
            for _ in range(50):  # until the last frame due in the window is drawn
                if due and max(due.values()) >= end:
                    break
                await asyncio.sleep(0.05)
            window = sorted(n for n, at in due.items() if start <= at < end)
            print(json.dumps(window), flush=True)
            for n in [n for n, at in due.items() if at < end]:
                del due[n]
    finally:
        await publication.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--relay", required=True)
    parser.add_argument("--room", required=True)
    parser.add_argument("--grant-secret", required=True)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
