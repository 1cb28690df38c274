"""A real WordPress (Debian's package) in a scratch folder, on the machine's MariaDB, served by PHP's own server."""

import contextlib
import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from pathlib import Path

from tests.conftest import ROOT
from tests.support import free_port

DEBIAN_WORDPRESS = Path("/usr/share/wordpress")
DEBIAN_CONTENT = DEBIAN_WORDPRESS / "wp-content"
HERE = Path(__file__).resolve().parent
BUILD = ROOT / "integrations" / "build_wordpress.py"
PASSWORD = "wp-admin-password-1"

CONFIG = """<?php
define( 'DB_NAME', '{db}' );
define( 'DB_USER', 'root' );
define( 'DB_PASSWORD', '' );
define( 'DB_HOST', '127.0.0.1:3306' );
define( 'DB_CHARSET', 'utf8mb4' );
define( 'WP_HOME', '{base}' );
define( 'WP_SITEURL', '{base}' );
define( 'WP_CONTENT_DIR', __DIR__ . '/wp-content' );
define( 'WP_CONTENT_URL', '{base}/wp-content' );
define( 'WP_DEBUG', true );
define( 'WP_DEBUG_LOG', __DIR__ . '/debug.log' );
define( 'WP_DEBUG_DISPLAY', false );
define( 'WP_HTTP_BLOCK_EXTERNAL', true );  // no calls to wordpress.org from a closed network
define( 'AUTOMATIC_UPDATER_DISABLED', true );
{salts}
$table_prefix = 'wp_';
define( 'ABSPATH', __DIR__ . '/' );
require_once ABSPATH . 'wp-settings.php';
"""
SALTS = (
    "AUTH_KEY",
    "SECURE_AUTH_KEY",
    "LOGGED_IN_KEY",
    "NONCE_KEY",
    "AUTH_SALT",
    "SECURE_AUTH_SALT",
    "LOGGED_IN_SALT",
    "NONCE_SALT",
)


class WordPress:
    """Debian's WordPress copied to `root`, installed in a database of its own, the project's plugin (from the
    zip `make wordpress-plugin` builds) activated, served by `php -S` with a few workers."""

    def __init__(self, root):
        self.root = Path(root)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.db = f"wp_test_{uuid.uuid4().hex[:10]}"
        self.process = None
        self.post_id = None

    def install(self):
        shutil.copytree(DEBIAN_WORDPRESS, self.root, symlinks=True, ignore=shutil.ignore_patterns("wp-content"))
        content = self.root / "wp-content"
        for folder in ("plugins", "themes", "languages", "uploads", "mu-plugins"):
            (content / folder).mkdir(parents=True)
        (content / "themes" / "twentytwentyone").symlink_to(DEBIAN_CONTENT / "themes" / "twentytwentyone")
        for translation in (DEBIAN_CONTENT / "languages").glob("*ru_RU*"):
            (content / "languages" / translation.name).symlink_to(translation)
        with zipfile.ZipFile(load_build().build_zip(self.root.parent / "moderation.zip")) as archive:
            archive.extractall(content / "plugins")
        shutil.copy(HERE / "test-site.php", content / "mu-plugins" / "test-site.php")
        salts = "\n".join(f"define( '{name}', '{secrets.token_hex(24)}' );" for name in SALTS)
        (self.root / "wp-config.php").write_text(CONFIG.format(db=self.db, base=self.base, salts=salts))
        self.post_id = int(self.php_file(HERE / "install.php").strip().splitlines()[-1])
        return self

    def env(self):
        return {**os.environ, "WP_TEST_DB": self.db, "WP_TEST_PASSWORD": PASSWORD}

    def php_file(self, path):
        """Run a PHP script in the WordPress folder; its stdout."""
        done = subprocess.run(
            ["php", str(path)], cwd=self.root, env=self.env(), capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def php(self, code):
        """Run PHP code with WordPress loaded (as `wp eval` does); its stdout."""
        script = self.root / f"eval-{uuid.uuid4().hex[:8]}.php"
        script.write_text(f"<?php\nrequire __DIR__ . '/wp-load.php';\n{code}\n")
        try:
            return self.php_file(script)
        finally:
            script.unlink()

    def set_options(self, **options):
        """update_option() for each; the plugin's settings are plain options (the contract)."""
        self.php("".join(f"update_option({json.dumps(k)}, {json.dumps(v)});\n" for k, v in options.items()))

    def start(self):
        env = {**self.env(), "PHP_CLI_SERVER_WORKERS": "4"}
        self.process = subprocess.Popen(
            ["php", "-S", f"127.0.0.1:{self.port}", "-t", str(self.root), str(HERE / "router.php")],
            cwd=self.root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its workers share its process group, so that stop() ends them all
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.get("/")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.2)
        raise AssertionError("WordPress did not answer")

    def stop(self):
        if self.process:
            # The workers outlive the server's own process when only it is stopped: end the whole group.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
            with contextlib.suppress(ProcessLookupError):  # a worker still finishing its request
                os.killpg(self.process.pid, signal.SIGKILL)
        subprocess.run(
            [
                "php",
                "-r",
                f"(new mysqli('127.0.0.1', 'root', '', '', 3306))->query('DROP DATABASE IF EXISTS `{self.db}`');",
            ],
            check=False,
            timeout=60,
        )

    def get(self, path, timeout=30):
        """(status, text) of a GET, as a reader's browser makes it."""
        try:
            with urllib.request.urlopen(self.base + path, timeout=timeout) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def comment(self, text, author="Читатель", email=None):
        """Post through the comment form (wp-comments-post.php), as a reader's browser does; the new comment's id.

        WordPress answers with a redirect to the article, to the comment's anchor (#comment-<id>).
        """
        body = urllib.parse.urlencode(
            {
                "comment": text,
                "author": author,
                "email": email or f"{uuid.uuid4().hex[:8]}@example.kz",
                "url": "",
                "comment_post_ID": self.post_id,
                "comment_parent": 0,
                "submit": "Отправить комментарий",
            }
        ).encode()
        request = urllib.request.Request(
            f"{self.base}/wp-comments-post.php",
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "User-Agent": "Mozilla/5.0 (tests)",
                "Referer": f"{self.base}/?p={self.post_id}",
            },
        )
        opener = urllib.request.build_opener(NoRedirect)
        try:
            opener.open(request, timeout=60)
        except urllib.error.HTTPError as answer:
            location = answer.headers.get("Location", "")
            found = re.search(r"#comment-(\d+)", location)
            assert answer.code == 302 and found, (answer.code, location, answer.read()[:2000])
            return int(found.group(1))
        raise AssertionError("the comment form did not redirect")

    def status(self, comment_id):
        """What WordPress shows of a comment: approved, unapproved, spam or trash."""
        return self.php(f"echo wp_get_comment_status({int(comment_id)});").strip()

    def meta(self, comment_id, key):
        return self.php(f"echo wp_json_encode(get_comment_meta({int(comment_id)}, {json.dumps(key)}, true));")

    def comments(self):
        """Every comment of the site: [(id, status, text)]."""
        out = self.php(
            "foreach (get_comments(['status' => 'all', 'type' => 'comment', 'orderby' => 'comment_ID', "
            "'order' => 'ASC']) as $c) { echo wp_json_encode([(int) $c->comment_ID, "
            'wp_get_comment_status($c), $c->comment_content]), "\\n"; }'
        )
        return [tuple(json.loads(line)) for line in out.splitlines() if line.strip()]

    def run_cron(self):
        """Run WP-Cron's due events, as a visit to wp-cron.php does."""
        return self.get("/wp-cron.php")[0]

    def debug_log(self):
        log = self.root / "debug.log"
        return log.read_text(errors="replace") if log.exists() else ""


def load_build():
    """integrations/build_wordpress.py as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("build_wordpress", BUILD)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
