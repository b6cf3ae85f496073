"""`vitrine run` (what `make run` starts): web node, relay and demo camera, working together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
import socketio
from sqlmodel import Session

from sessions.db import make_engine
from sessions.demo import demo_live_room
from tests.servers import ROOT, free_port

READY = "Vitrine is running"


@pytest.mark.slow
@pytest.mark.media
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_run_serves_the_demo_with_a_live_camera(
    database_url: str, tmp_path: Path, stop_signal: signal.Signals
) -> None:
    web_port, relay_port = free_port(), free_port()
    env = {
        **os.environ,
        "VITRINE_ENV": "development",
        "VITRINE_VAR_DIR": str(tmp_path / "var"),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "DATABASE_URL": database_url,
    }
    env.pop("SOCKETIO_ASYNC_MODE", None)
    # A generated secret may start with "-" (token_urlsafe): one in 64 runs used to hand the
    # camera an argv it read as an option. Make that the case every time.
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "media_grant_secret").write_text("-starts-with-a-dash-" + "x" * 40)
    vitrine = [sys.executable, "-m", "web.cli"]
    for step in (["migrate"], ["seed-demo", "--if-empty"]):
        subprocess.run(vitrine + step, cwd=ROOT, env=env, check=True, capture_output=True)

    site = f"http://127.0.0.1:{web_port}"
    relay = f"http://127.0.0.1:{relay_port}"
    proc = subprocess.Popen(
        [*vitrine, "run", "--port", str(web_port), "--relay-port", str(relay_port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # the supervisor prints the URL once everything answers
            if READY in line:
                break
        else:
            pytest.fail("vitrine run exited before it was ready")
        # Keep reading: the processes share this pipe, and a full pipe would block them.
        output: list[str] = []
        threading.Thread(target=lambda: output.extend(proc.stdout or []), daemon=True).start()

        assert "Maison Aurèle" in requests.get(f"{site}/b/maison-aurele", timeout=10).text
        engine = make_engine(database_url)
        with Session(engine) as db:
            room = demo_live_room(db)
        engine.dispose()
        assert room is not None

        # The browser calls the relay from the site's origin: CORS must allow it.
        status = requests.get(f"{relay}/rooms/{room}/status", headers={"Origin": site}, timeout=10)
        assert status.headers.get("Access-Control-Allow-Origin") in (site, "*")
        # The synthetic camera publishes into the live show (it connects within seconds).
        # The full status is internal: ask with the token `vitrine run` gave web and relay.
        token = (tmp_path / "var" / "relay_internal_token").read_text().strip()
        internal = {"Authorization": f"Bearer {token}"}
        for _ in range(100):
            state = requests.get(f"{relay}/rooms/{room}/status", headers=internal, timeout=5).json()
            if state["publisher"] == "live":
                break
            time.sleep(0.2)  # polling another process's state: there is no event to await
        else:
            pytest.fail(f"the demo camera never went live: {''.join(output)[-2000:]}")

        # Socket.IO works under gunicorn's gevent worker, as deployed.
        client = socketio.SimpleClient()
        client.connect(site, transports=["websocket"])
        assert client.connected
        client.disconnect()
    finally:
        proc.send_signal(stop_signal)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail(f"vitrine run did not stop on {stop_signal.name}")
    # Ctrl-C stopped all of it: nothing answers on the web or relay port any more.
    for url in (f"{site}/api/brands", f"{relay}/healthz"):
        with pytest.raises(requests.ConnectionError):
            requests.get(url, timeout=2)
