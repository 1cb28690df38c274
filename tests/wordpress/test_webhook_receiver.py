"""The plugin's webhook route (/wp-json/moderation/v1/webhook) refuses what the service did not sign, or signed
too long ago, and applies each event once and in order."""

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
import uuid

from tests.wordpress.test_plugin import ORDINARY, shown_as


def signed(secret, body, at=None):
    at = int(time.time()) if at is None else at
    return f"t={at},v1={hmac.new(secret.encode(), f'{at}.'.encode() + body, hashlib.sha256).hexdigest()}"


def deliver(wordpress, body, signature, delivery=None):
    """(status, JSON) of a POST to the plugin's webhook route."""
    headers = {
        "Content-Type": "application/json",
        "X-Moderation-Event": "comment.moderated",
        "X-Moderation-Delivery": delivery or uuid.uuid4().hex,
    }
    if signature is not None:
        headers["X-Moderation-Signature"] = signature
    request = urllib.request.Request(
        f"{wordpress.base}/wp-json/moderation/v1/webhook", data=body, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def event(service_id, status, sequence):
    return json.dumps(
        {
            "event": "comment.moderated",
            "sequence": sequence,
            "by": "moderator",
            "comment": {"id": service_id, "status": status, "scores": {"spam": 0.01, "toxicity": 0.2}, "reasons": []},
        }
    ).encode()


def test_only_fresh_signed_events_change_a_comment_each_once_and_in_order(stack):
    wordpress, secret = stack.wordpress, stack.secret
    comment = wordpress.comment(ORDINARY.replace("осени", "зимы"))
    shown_as(stack, comment, "approved")
    service_id = int(wordpress.meta(comment, "_moderation_id").strip('"'))
    applied = int(wordpress.meta(comment, "_moderation_sequence").strip('"'))
    spam = event(service_id, "spam", applied + 10)

    refused = [
        deliver(wordpress, spam, None),  # unsigned
        deliver(wordpress, spam, signed("whsec_not-the-secret", spam)),  # another secret
        deliver(wordpress, spam, signed(secret, spam + b" ")),  # the body changed after signing
        deliver(wordpress, spam, signed(secret, spam, time.time() - 600)),  # a replay ten minutes later
        deliver(wordpress, spam, signed(secret, spam, time.time() + 600)),  # a clock far ahead
    ]
    assert [status for status, _body in refused] == [401] * 5, refused
    assert refused[0][1]["code"] == "moderation_bad_signature"
    assert wordpress.status(comment) == "approved"

    delivery = uuid.uuid4().hex
    assert deliver(wordpress, spam, signed(secret, spam), delivery) == (
        200,
        {"result": "applied", "comment": comment, "status": "spam"},
    )
    assert wordpress.status(comment) == "spam"
    # The same delivery again (the service retrying after a lost answer): acknowledged, nothing applied.
    wordpress.php(f"wp_set_comment_status({comment}, 'approve');")
    assert deliver(wordpress, spam, signed(secret, spam), delivery)[1] == {"result": "duplicate"}
    # An older event arriving late (a new delivery id, a lower sequence) does not undo a newer one.
    older = event(service_id, "held", applied + 5)
    assert deliver(wordpress, older, signed(secret, older))[1] == {"result": "outdated"}
    assert wordpress.status(comment) == "approved"
    # A comment this site does not have (posted through another tool): acknowledged, nothing to do.
    stranger = event(2_000_000_000, "spam", 1)
    assert deliver(wordpress, stranger, signed(secret, stranger))[1] == {"result": "unknown comment"}
    # A signed body without a comment is a client error, not a crash.
    empty = b'{"event": "comment.moderated"}'
    assert deliver(wordpress, empty, signed(secret, empty))[0] == 400
