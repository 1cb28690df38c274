"""npm `akismet-api` 6.0.0 (Node) against the service's Akismet API, as a Node site would use it.

The client takes `host` and `protocol`, so it needs no redirect: verify-key goes to http://localhost:PORT/1.1/
with the key in the form, and comment-check / submit-spam / submit-ham go to http://KEY.localhost:PORT/1.1/ with
the key in the host name alone (Akismet's legacy form). tests/compat/patchdns.js resolves *.localhost for node.
One node run per database does every call; the tests read its JSON results and the service's database.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.compat.conftest import EXTRA, KINDS, SITE_URL, STATUS, TEXTS, label_of, stored
from tests.conftest import unavailable

PACKAGE = "akismet-api@6.0.0"
PATCH_DNS = Path(__file__).with_name("patchdns.js")
TEXT = TEXTS["akismet_node"]
AUTHOR = {
    "ip": "198.51.100.20",
    "useragent": "Mozilla/5.0 (Android 14)",
    "name": "Айгерим",
    "email": "aigerim@example.kz",
    "type": "comment",
    "permalink": "https://news.example.kz/gas-2026",
}
THANKS = "Thanks for making the web a better place."

SCRIPT = """
const { AkismetClient } = require('akismet-api');
const plan = JSON.parse(process.argv[2]);

async function attempt(call) {
  try { return { value: await call() }; } catch (error) { return { error: error.message }; }
}

(async () => {
  const client = new AkismetClient({ key: plan.key, blog: plan.blog, host: plan.host, protocol: 'http' });
  const stranger = new AkismetClient({ key: plan.badKey, blog: plan.blog, host: plan.host, protocol: 'http' });
  const out = { endpoint: client.endpoint, checks: {}, submissions: {} };
  out.verifyKey = await attempt(() => client.verifyKey());
  out.verifyBadKey = await attempt(() => stranger.verifyKey());
  out.badKeyCheck = await attempt(() => stranger.checkSpam(plan.checks[0][1]));
  for (const [name, comment] of plan.checks) out.checks[name] = await attempt(() => client.checkSpam(comment));
  for (const [name, method, comment] of plan.submissions) {
    out.submissions[name] = await attempt(async () => {
      const response = await client[method](comment);
      return { status: response.status, text: response.text };
    });
  }
  console.log(JSON.stringify(out));
})();
"""


@pytest.fixture(scope="session")
def akismet_api(tmp_path_factory):
    """A folder with akismet-api installed from the npm registry and the script above; once per run."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        unavailable("node and npm are missing (apt-get install nodejs npm)")
    folder = tmp_path_factory.mktemp("akismet-api")
    done = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", PACKAGE],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        unavailable(f"npm install {PACKAGE} failed: {done.stderr[-1000:]}")
    (folder / "run.js").write_text(SCRIPT)
    return folder


def comment(text, ip=AUTHOR["ip"]):
    return {**AUTHOR, "ip": ip, "content": text}


@pytest.fixture(scope="module")
def results(compat, akismet_api):
    """The node client's answers: every kind checked, then the site correcting two verdicts."""
    missed, false_spam = EXTRA["akismet_node_missed_spam"], EXTRA["akismet_node_false_spam"]
    plan = {
        "key": compat.key,
        "badKey": "mk_not-a-site-key",
        "blog": SITE_URL,
        "host": f"localhost:{compat.port}",
        "checks": [
            *[[kind, comment(getattr(TEXT, kind))] for kind in KINDS],
            ["missed", comment(missed, "198.51.100.21")],
            ["false_spam", comment(false_spam, "198.51.100.22")],
        ],
        "submissions": [
            ["spam", "submitSpam", comment(missed, "198.51.100.21")],
            ["ham", "submitHam", comment(false_spam, "198.51.100.22")],
        ],
    }
    done = subprocess.run(
        ["node", "-r", str(PATCH_DNS), "run.js", json.dumps(plan)],
        cwd=akismet_api,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_verify_key(results):
    """verify-key (key in the form, plain host): the site's key is valid, another is not; a wrong key in the host
    name makes comment-check fail the way the library reports a bad key."""
    assert results["verifyKey"] == {"value": True}
    assert results["verifyBadKey"] == {"value": False}
    assert results["badKeyCheck"] == {"error": "Invalid API key"}


@pytest.mark.parametrize("kind", KINDS)
def test_check_spam(compat, results, kind):
    """checkSpam with the key in the host name: true for spam only; the comment is stored decided, by its author."""
    assert results["checks"][kind] == {"value": kind == "spam"}, results["endpoint"]
    (row,) = stored(compat, getattr(TEXT, kind))
    assert row.status == STATUS[kind] and row.name == AUTHOR["name"]


def test_submissions_become_labels(compat, results):
    """submitSpam / submitHam resolve with Akismet's thanks; the comments change status and carry the labels."""
    assert results["checks"]["missed"] == {"value": False}
    assert results["checks"]["false_spam"] == {"value": True}
    assert results["submissions"] == {
        "spam": {"value": {"status": 200, "text": THANKS}},
        "ham": {"value": {"status": 200, "text": THANKS}},
    }
    (missed,), (false_spam,) = (
        stored(compat, EXTRA["akismet_node_missed_spam"]),
        stored(compat, EXTRA["akismet_node_false_spam"]),
    )
    assert (missed.status, false_spam.status) == ("spam", "approved")
    assert label_of(compat, EXTRA["akismet_node_missed_spam"]) == (True, None)
    assert label_of(compat, EXTRA["akismet_node_false_spam"]) == (False, False)
