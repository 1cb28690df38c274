"""Signed webhooks through the real pipeline: a real worker and its beat, real Redis, and a real HTTP endpoint
standing in for the site (in this process, on a free port)."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from moderation.cli import main
from moderation.db import db
from moderation.models import WebhookDelivery
from moderation.services import sites, users
from tests.tasks.conftest import wait_for_decisions
from tests.tasks.service import wait_until
from tests.web.dashboard_support import page_token, signed_in_client

CLEAN = "Спасибо за статью, очень полезная информация о ремонте дорог в Алматы."
TOXIC = "Ты тупой дебил, заткнись уже, идиот"
FAST = {"WEBHOOK_INTERVAL": 1, "WEBHOOK_RETRY_SECONDS": 1}  # the beat sweeps every second; retries 1, 2, 4 s


class Receiver:
    """The site's webhook endpoint: records every request; answers 500 to the first `fail` ones, then 200."""

    def __init__(self, fail=0):
        self.requests, self.fail, self.lock = [], fail, threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.requests.append({"headers": dict(self.headers), "body": body, "at": time.time()})
                    failing = len(receiver.requests) <= receiver.fail
                self.send_response(500 if failing else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/wp-json/moderation/v1/webhook"

    def events(self):
        with self.lock:
            return [(r["headers"]["X-Moderation-Event"], json.loads(r["body"])) for r in self.requests]

    def wait_for(self, count, timeout=60):
        wait_until(lambda: len(self.requests) >= count, timeout=timeout, what=f"{count} webhook requests")
        return self.requests


@pytest.fixture
def receiver():
    endpoints = []

    def start(fail=0):
        endpoints.append(Receiver(fail))
        return endpoints[-1]

    yield start
    for endpoint in endpoints:
        endpoint.server.shutdown()


def webhook_site(app, url):
    """A site whose webhook goes to `url`, set with the command; return (its Authorization header, the secret)."""
    with app.app_context():
        site, key = sites.create_site("almaty-news")
        site.flood_seconds = 0
        db.session.commit()
    result = app.test_cli_runner().invoke(main, ["site", "webhook", "almaty-news", url])
    assert result.exit_code == 0, result.output
    return {"Authorization": f"Bearer {key}"}, result.output.strip().splitlines()[-1]


def post(client, auth, text):
    response = client.post(
        "/api/v1/comments", json={"name": "Читатель", "text": text, "article_id": "roads"}, headers=auth
    )
    assert response.status_code == 202, response.json
    return response.json["id"]


def verify(request, secret, now=None):
    """The receiver's check, as the README tells a site to make it: the signature and a fresh timestamp."""
    parts = dict(item.split("=", 1) for item in request["headers"]["X-Moderation-Signature"].split(","))
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + request["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"]) and abs((now or time.time()) - int(parts["t"])) < 300


def moderator_token(app):
    with app.app_context():
        return users.issue_token(users.create_user("moderator-1", "correct horse battery", "moderator"))


def moderate(client, token, comment_id, action, reason=None):
    body = {"action": action, **({"reason": reason} if reason else {})}
    response = client.post(
        f"/api/v1/comments/{comment_id}/moderate", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.json


def test_decisions_and_moderation_reach_the_site_signed(app, client, start_worker, receiver):
    endpoint = receiver()
    auth, secret = webhook_site(app, endpoint.url)
    assert secret.startswith("whsec_")
    worker = start_worker(**FAST)
    ids = [post(client, auth, CLEAN), post(client, auth, TOXIC)]
    assert wait_for_decisions(app, ids) == {ids[0]: "approved", ids[1]: "held"}
    requests = endpoint.wait_for(2)
    assert all(verify(r, secret) for r in requests)
    assert not verify({**requests[0], "body": requests[0]["body"] + b" "}, secret)  # a changed body fails
    assert not verify(requests[0], secret, now=time.time() + 600)  # and so does an old one (a replay)
    decided = {body["comment"]["id"]: (event, body) for event, body in endpoint.events()}
    event, held = decided[ids[1]]
    assert event == "comment.decided" and held["event"] == event
    assert held["comment"]["status"] == "held" and held["comment"]["scores"]["toxicity"] >= 0.5
    assert [r["code"] for r in held["comment"]["reasons"]] == ["toxicity"] and held["comment"]["article_id"] == "roads"
    assert len({r["headers"]["X-Moderation-Delivery"] for r in requests}) == 2

    token = moderator_token(app)
    moderate(client, token, ids[1], "approve")
    endpoint.wait_for(3)
    event, moderated = endpoint.events()[2]
    assert event == "comment.moderated" and moderated["comment"]["id"] == ids[1]
    assert (moderated["previous_status"], moderated["comment"]["status"], moderated["by"]) == (
        "held",
        "approved",
        "moderator",
    )

    # No event for a change that did not happen: approving the approved one again, a redelivered scoring task.
    moderate(client, token, ids[0], "approve")
    task = app.extensions["celery"].send_task("moderation.score_comment", args=[ids[1]])
    wait_until(lambda: f"{task.id}] succeeded" in worker.log(), what="the redelivered task")
    with app.app_context():  # events are written with their change, so none can still be on its way
        assert len(db.session.scalars(select(WebhookDelivery)).all()) == 3
    assert len(endpoint.requests) == 3


def test_a_site_that_fails_three_times_gets_the_event_on_the_fourth(app, client, start_worker, receiver):
    endpoint = receiver(fail=3)
    auth, secret = webhook_site(app, endpoint.url)
    start_worker(**FAST)
    comment_id = post(client, auth, TOXIC)
    requests = endpoint.wait_for(4, timeout=90)
    assert len({r["headers"]["X-Moderation-Delivery"] for r in requests}) == 1  # the same delivery, retried
    assert all(verify(r, secret) for r in requests)

    def delivered():
        with app.app_context():
            row = db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.comment_id == comment_id))
            return (row.status, row.attempts, row.last_code) if row.status == "delivered" else None

    assert wait_until(delivered, what="the delivery recorded") == ("delivered", 4, 200)
    assert len(endpoint.requests) == 4  # one request per attempt: no delivery sent twice


def test_an_event_made_while_redis_is_down_is_delivered_once_it_is_back(make_app, redis_server, start_worker, receiver):
    endpoint = receiver()
    app = make_app(REDIS_URL=redis_server.url, BROKER_TIMEOUT=0.5)
    client = app.test_client()
    auth, _secret = webhook_site(app, endpoint.url)
    start_worker(redis=redis_server.url, **FAST)
    comment_id = post(client, auth, TOXIC)
    wait_for_decisions(app, [comment_id])
    endpoint.wait_for(1)
    token = moderator_token(app)

    redis_server.stop()
    moderate(client, token, comment_id, "reject", "insult")  # committed with its event; the broker is down
    with app.app_context():
        pending = db.session.scalars(
            select(WebhookDelivery.status).where(WebhookDelivery.event == "comment.moderated")
        ).all()
    assert pending == ["pending"]
    redis_server.start()
    endpoint.wait_for(2, timeout=90)
    event, body = endpoint.events()[1]
    assert (event, body["comment"]["status"], body["comment"]["id"]) == ("comment.moderated", "rejected", comment_id)


def test_an_admin_sends_a_delivery_again_from_the_log(app, client, start_worker, receiver):
    endpoint = receiver()
    auth, secret = webhook_site(app, endpoint.url)
    start_worker(**FAST)
    comment_id = post(client, auth, CLEAN)
    first = endpoint.wait_for(1)[0]

    def delivered():
        with app.app_context():
            row = db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.comment_id == comment_id))
            return row if row.status == "delivered" else None

    delivery = wait_until(delivered, what="the delivery recorded")
    site_id = delivery.site_id
    admin, _login = signed_in_client(app, role="admin")
    page = admin.get(f"/dashboard/admin/sites/{site_id}/webhook").get_data(as_text=True)
    assert "comment.decided" in page and "доставлено" in page and "Повторить" in page
    token = page_token(admin, f"/dashboard/admin/sites/{site_id}/webhook")
    response = admin.post(f"/dashboard/admin/webhooks/{delivery.id}/redeliver", data={"csrf_token": token})
    assert response.status_code == 302
    again = endpoint.wait_for(2)[1]
    assert again["headers"]["X-Moderation-Delivery"] == first["headers"]["X-Moderation-Delivery"]
    assert again["body"] == first["body"] and verify(again, secret)
    assert wait_until(lambda: (d := delivered()) and d.attempts == 2, what="the second attempt recorded")
    assert len(endpoint.requests) == 2


def test_a_newer_event_replaces_an_older_one_still_waiting(app, client, start_worker, receiver):
    """The site is down when the filter decides and when a moderator approves: once it is back it gets the
    approval only, never the stale hold after it; and each event's sequence is higher than the last."""
    endpoint = receiver(fail=1000)
    auth, _secret = webhook_site(app, endpoint.url)
    start_worker(**FAST)
    comment_id = post(client, auth, TOXIC)
    wait_for_decisions(app, [comment_id])
    endpoint.wait_for(1)
    moderate(client, moderator_token(app), comment_id, "approve")
    endpoint.fail = 0

    def states():
        with app.app_context():
            return dict(db.session.execute(select(WebhookDelivery.event, WebhookDelivery.status)).all())

    wait_until(lambda: states().get("comment.moderated") == "delivered", what="the approval delivered")
    time.sleep(3)  # sweeps after it: the superseded hold must not follow
    assert states() == {"comment.decided": "superseded", "comment.moderated": "delivered"}
    events = [event for event, _body in endpoint.events()]
    first_approval = events.index("comment.moderated")
    assert set(events[first_approval:]) == {"comment.moderated"}
    assert endpoint.events()[-1][1]["comment"]["status"] == "approved"
    sequences = [body["sequence"] for _e, body in endpoint.events()]
    assert max(sequences) == sequences[-1]
