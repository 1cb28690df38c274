"""Replay a new site's traffic under a hold budget: does the held share follow the budget?

Usage: python bench/budget_replay.py [--budget 5] [--rate 40] [--interval 10] [--data DIR]

`moderation run` serves a throw-away SQLite database (web, worker, beat and the embedded Redis, as
a newcomer runs it); `moderation site add` creates the site and `moderation site budget` gives it
the budget. The 3,453 real news comments of unlabelled_comments.csv, which no model trained on with
labels, are then posted in file order through POST /api/v1/comments at a steady rate, each under
its own reader's name. The beat recomputes the thresholds every --interval seconds from the site's
latest comments. Warm-up: the comments posted before the first thresholds the budget set (until the
site has budget.MIN_COMMENTS comments, the model's thresholds apply). Prints the held share per
500 comments, after warm-up, and the thresholds it settled on. Target: within the budget ± 1.5 points.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from moderation import create_app  # noqa: E402
from moderation.db import db  # noqa: E402
from moderation.models import HELD, PENDING, Comment, Site  # noqa: E402
from moderation.runner import free_port  # noqa: E402

MODERATION = str(Path(sys.executable).with_name("moderation"))
TOLERANCE = 1.5  # points
CHUNK = 500


def command(env, *args):
    """Run a `moderation` subcommand; return its stdout's last line."""
    done = subprocess.run([MODERATION, *args], env=env, capture_output=True, text=True, timeout=300, check=True)
    return done.stdout.strip().splitlines()[-1]


def post(base, key, name, text):
    body = json.dumps({"name": name, "text": text, "article_id": "replay"}).encode()
    request = urllib.request.Request(
        f"{base}/api/v1/comments",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def wait_healthy(base, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise SystemExit("the service did not become healthy")


def replay(texts, base, key, rate):
    """Post every text at `rate` a second; return the answers' status codes counted."""
    codes, started = {}, time.monotonic()
    for n, text in enumerate(texts):
        code = post(base, key, f"Читатель {n}", text)
        codes[code] = codes.get(code, 0) + 1
        pause = started + (n + 1) / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        if (n + 1) % 1000 == 0:
            print(f"  posted {n + 1}", flush=True)
    return codes


def outcome(app, site_name, timeout=600):
    """(comments in arrival order, the site's budget state), once none is pending."""
    deadline = time.monotonic() + timeout
    with app.app_context():
        while True:
            site = db.session.scalar(select(Site).where(Site.name == site_name))
            rows = db.session.execute(
                select(Comment.status, Comment.created_at).where(Comment.site_id == site.id).order_by(Comment.id)
            ).all()
            if not any(status == PENDING for status, _ in rows) or time.monotonic() > deadline:
                return rows, site.budget_state
            db.session.rollback()
            time.sleep(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=5.0, help="percent of comments held")
    parser.add_argument("--rate", type=float, default=40.0, help="comments posted a second")
    parser.add_argument("--interval", type=int, default=10, help="seconds between the beat's recomputations")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    with open(args.data / "unlabelled_comments.csv", encoding="utf-8", newline="") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]

    scratch = Path(tempfile.mkdtemp(prefix="budget-replay-"))
    port = free_port()
    env = {
        **os.environ,
        "MODERATION_DATABASE_URL": f"sqlite:///{scratch / 'replay.db'}",
        "PORT": str(port),
        "MODERATION_BUDGET_INTERVAL": str(args.interval),
        "MODERATION_SECRET_KEY": "budget-replay",
    }
    env.pop("MODERATION_REDIS_URL", None)
    base = f"http://127.0.0.1:{port}"
    service = subprocess.Popen(
        [MODERATION, "run"],
        env=env,
        stdout=open(scratch / "run.log", "w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_healthy(base)
        key = command(env, "site", "add", "replay")
        print(command(env, "site", "budget", "replay", f"{args.budget:g}"))
        print(
            f"replaying {len(texts)} comments at {args.rate:g}/s, budget {args.budget:g}%, "
            f"thresholds recomputed every {args.interval}s (log: {scratch / 'run.log'})",
            flush=True,
        )
        started = time.monotonic()
        codes = replay(texts, base, key, args.rate)
        print(f"posted in {time.monotonic() - started:.0f}s: {codes}")
        app = create_app({"DATABASE_URL": env["MODERATION_DATABASE_URL"], "SECRET_KEY": "budget-replay"})
        rows, state = outcome(app, "replay")
    finally:
        os.killpg(service.pid, signal.SIGTERM)
        service.wait(timeout=60)
    report(rows, state, args.budget)


def report(rows, state, percent):
    held = [status == HELD for status, _ in rows]
    print(f"\n{'comments':>12} {'held':>7}")
    for start in range(0, len(rows), CHUNK):
        part = held[start : start + CHUNK]
        print(f"{start + 1:>5}-{start + len(part):<6} {sum(part) / len(part):>7.1%}")
    if not state or state.get("status") != "active":
        print(f"the budget never set thresholds: {state}")
        return
    first = datetime.fromisoformat(state["active_since"])
    after = [h for (_status, created), h in zip(rows, held) if created >= first]
    share = sum(after) / len(after)
    print(
        f"\nafter warm-up ({len(after)} comments, from the first thresholds the budget set): held {share:.1%} "
        f"(budget {percent:g}% ± {TOLERANCE:g}: {'met' if abs(share * 100 - percent) <= TOLERANCE else 'NOT met'})"
    )
    print(f"all {len(rows)} comments: held {sum(held) / len(held):.1%}")
    print(
        f"settled on: toxicity_hold {state['toxicity_hold']:.4f} (model {state['model']['toxicity_hold']:.4f}), "
        f"spam_hold {state['spam_hold']:.4f} (model {state['model']['spam_hold']:.4f}); window {state['window']}, "
        f"held by rules {state['rule_share']:.1%}, expected held {state['expected_share']:.1%}"
    )


if __name__ == "__main__":
    main()
