"""The README's PHP signature check, run by PHP against signatures made the way the service makes them."""

import json
import re
import shutil
import subprocess
import time

import pytest

from moderation.services.webhooks import sign
from tests.conftest import ROOT, unavailable


@pytest.fixture(scope="module")
def readme_php():
    if shutil.which("php") is None:
        unavailable("php is missing (apt-get install php-cli)")
    blocks = re.findall(r"```php\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    verifier = [block for block in blocks if "function moderation_verified" in block]
    assert len(verifier) == 1, "the README shows one PHP verifier"
    return verifier[0]


def verified(readme_php, secret, header, body):
    script = (
        readme_php + "\n$in = json_decode(stream_get_contents(STDIN), true);\n"
        "echo moderation_verified($in['secret'], $in['header'], $in['body']) ? 'yes' : 'no';\n"
    )
    done = subprocess.run(
        ["php", "-r", script],
        input=json.dumps({"secret": secret, "header": header, "body": body}),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0 and not done.stderr, done.stderr
    return done.stdout == "yes"


def test_the_readme_php_verifier_accepts_the_service_signature_and_nothing_else(readme_php):
    secret, body = "whsec_abc123", '{"event": "comment.decided", "comment": {"id": 1, "status": "held"}}'
    now = int(time.time())
    assert verified(readme_php, secret, sign(secret, now, body.encode()), body)
    assert not verified(readme_php, "whsec_other", sign(secret, now, body.encode()), body)
    assert not verified(readme_php, secret, sign(secret, now, body.encode()), body.replace("held", "approved"))
    assert not verified(readme_php, secret, sign(secret, now - 3600, body.encode()), body)
    assert not verified(readme_php, secret, "garbage", body)
