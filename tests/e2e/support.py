"""Helpers for the browser tests: a live HTTP server in a thread, signing in, reading the database afresh."""

import re
import threading
from pathlib import Path

from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; `playwright install` cannot download browsers here
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT = {"width": 1280, "height": 800}  # also the size of the README's screenshots
PASSWORD = "correct-horse-42"  # every test account's


class LiveServer:
    """The app served over real HTTP from a thread of the test process, so the browser talks to a real server."""

    def __init__(self, app):
        self.app = app
        # Port 0: the system picks a free port, with no race between choosing and binding it.
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-server", daemon=True)

    def __call__(self, path="/"):
        """The absolute address of a path on this server."""
        return self.url + path

    def query(self, fn):
        """Run fn in a new app context, hence a new database session, and return what it returns."""
        with self.app.app_context():
            return fn()

    def start(self):
        """Serve in the background."""
        self.thread.start()

    def stop(self):
        """Stop serving and free the port."""
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()


def sign_in(page, live_server, login, password):
    """Sign in through the dashboard's login form, as a person does; ends on the queue."""
    page.goto(live_server("/dashboard/"))
    page.wait_for_url(re.compile(r"/dashboard/login"))
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("form.login-box button[type=submit]")
    page.wait_for_url(re.compile(r"/dashboard/(\?.*)?$"))
