"""Worker heartbeats: each worker marks itself alive in Redis; /healthz and retraining read the marks.

A worker whose process died, or whose consumer stopped (the broker gone, a crash inside kombu), stops
beating and its mark expires after HEARTBEAT_TTL seconds, so a load balancer or an operator sees it.
The beat runs on the consumer's own timer, in its event loop: a loop that hangs stops beating too.
"""

import logging
import time

import redis
from celery import bootsteps

log = logging.getLogger(__name__)


def _key_prefix(config):
    return f"{config['QUEUE']}:worker:"


def _client(config):
    timeout = config["BROKER_TIMEOUT"]
    return redis.Redis.from_url(config["REDIS_URL"], socket_connect_timeout=timeout, socket_timeout=timeout)


def ttl(config):
    """Seconds a mark lives: three missed beats, so one slow beat does not look like a dead worker."""
    return max(1, int(round(3 * config["HEARTBEAT_INTERVAL"])))


def beat(client, config, hostname):
    """Mark this worker alive for the next ttl() seconds."""
    client.set(_key_prefix(config) + hostname, f"{time.time():.0f}", ex=ttl(config))


def forget(client, config, hostname):
    """Remove this worker's mark at once (a clean shutdown), rather than letting it expire."""
    client.delete(_key_prefix(config) + hostname)


def workers_alive(config, client=None):
    """The hostnames of workers that beat within the last ttl() seconds; None when Redis cannot be asked."""
    if not config.get("REDIS_URL"):
        return None
    own = client is None
    client = client or _client(config)
    try:
        prefix = _key_prefix(config)
        return sorted(key.decode()[len(prefix) :] for key in client.scan_iter(match=prefix + "*", count=100))
    except redis.RedisError as exc:
        log.warning("cannot read worker heartbeats: %s", exc)
        return None
    finally:
        if own:
            client.close()


def consumer_step(config):
    """A Celery consumer bootstep that beats on the consumer's timer while it is connected."""

    class Heartbeat(bootsteps.StartStopStep):
        """Beat every HEARTBEAT_INTERVAL seconds; forget the mark at a clean shutdown."""

        def __init__(self, c, **kwargs):
            super().__init__(c, **kwargs)
            self.tref, self.client = None, None

        def start(self, c):
            self.client = _client(config)
            self._beat(c.hostname)
            self.tref = c.timer.call_repeatedly(config["HEARTBEAT_INTERVAL"], self._beat, (c.hostname,))

        def _beat(self, hostname):
            try:
                beat(self.client, config, hostname)
            except redis.RedisError as exc:  # the consumer notices the broker too, and reconnects
                log.warning("heartbeat not written: %s", exc)

        def stop(self, c):
            if self.tref is not None:
                self.tref.cancel()
                self.tref = None

        def shutdown(self, c):
            self.stop(c)
            if self.client is not None:
                try:
                    forget(self.client, config, c.hostname)
                except redis.RedisError:
                    pass
                self.client.close()

    return Heartbeat
