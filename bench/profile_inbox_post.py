"""Where a shopper's thread message spends its CPU: the POST of bench/service_inbox.py
under pyinstrument, in one process (Flask's test client, no network, no other load).

    .venv/bin/python bench/profile_inbox_post.py [--threads 200] [--associates 20]
        [--messages 600] [--html out.html]

Seeded as the bench seeds (a brand, `--associates` associates online, `--threads`
shoppers each with a thread held by one of them), on a fresh SQLite file; then
`--messages` POSTs of `/api/threads/<id>/messages` over the threads are profiled.
Prints the CPU ms per POST and pyinstrument's call tree (the events go to this
process's sink, no sockets: what is measured is the request itself).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pyinstrument import Profiler  # noqa: E402
from service_inbox import seed  # noqa: E402

from tests.factories import Factory  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=200)
    parser.add_argument("--associates", type=int, default=20)
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--html", default="", help="also write pyinstrument's HTML here")
    args = parser.parse_args(argv)

    from web import create_app

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/profile.db"
        brand_id, people = seed(url, args.associates, args.threads)
        app = create_app(
            {
                "VITRINE_ENV": "testing",
                "TESTING": True,
                "SECRET_KEY": "profile-secret",
                "MEDIA_GRANT_SECRET": "profile-media-secret",
                "DATABASE_URL": url,
                "SOCKETIO_ASYNC_MODE": "threading",
                "UPLOAD_DIR": f"{tmp}/uploads",
                "VAR_DIR": f"{tmp}/var",
                "WTF_CSRF_ENABLED": False,
                "SESSION_COOKIE_SECURE": False,
                "GUEST_RATE_LIMIT": "100000 per hour",
                "SCHEDULER": False,
            }
        )
        consoles = []
        for _, email in people:
            console = app.test_client()
            answer = console.post("/login", data={"email": email, "password": Factory.PASSWORD})
            assert answer.status_code in (302, 303), answer.status_code
            consoles.append(console)
        threads = []
        for k in range(args.threads):
            shopper = app.test_client()
            asked = shopper.post(f"/api/brands/{brand_id}/thread", json={"body": f"Hello {k}"})
            assert asked.status_code == 201, asked.get_json()
            thread_id = asked.get_json()["thread"]["id"]
            taken = consoles[k % len(consoles)].post(f"/api/threads/{thread_id}/accept")
            assert taken.status_code == 200, taken.get_json()
            threads.append((shopper, thread_id))
        for shopper, thread_id in threads[:20]:  # warm the path
            shopper.post(f"/api/threads/{thread_id}/messages", json={"body": "warm"})

        profiler = Profiler(interval=0.0005)
        cpu = time.process_time()
        profiler.start()
        for n in range(args.messages):
            shopper, thread_id = threads[n % len(threads)]
            sent = shopper.post(
                f"/api/threads/{thread_id}/messages", json={"body": f"m{n}", "client_id": f"c{n}"}
            )
            assert sent.status_code == 201, sent.get_json()
        profiler.stop()
        cpu = time.process_time() - cpu
        print(f"{args.messages} POSTs: {cpu / args.messages * 1000:.2f} CPU ms each (profiled)")
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        if args.html:
            Path(args.html).write_text(profiler.output_html())


if __name__ == "__main__":
    main()
