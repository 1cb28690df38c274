"""The API's rate limits, all of a request's checked in one Redis round trip.

Flask-Limiter (still used by the dashboard and the drop-in APIs) makes one round trip per limit and spends about
three times as long in its own Python; intake pays that on every comment (issue 16). The counting is Flask-Limiter's
default: a fixed window per key and route, built by `limits`' key_for, with its expiry, in the Redis that
RATELIMIT_STORAGE_URI names (without the `LIMITS:` prefix of `limits`' own storage). While that Redis does not
answer, or when the URI names no Redis, each process counts in its own memory (`limits`' MemoryStorage), as
Flask-Limiter's in-memory fallback does, and tries Redis again after RETRY_SECONDS.
"""

import functools
import logging
import time
from collections import namedtuple
from functools import wraps

import redis
from flask import current_app, g, request
from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from moderation import broker
from moderation.errors import error_response, message_for_status
from moderation.extensions import limit_key

log = logging.getLogger(__name__)
RETRY_SECONDS = 5.0
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")  # what redis-py's from_url takes

# One limit of a route: the config setting that holds it ("200 per second"), the function giving the key it is
# counted under, and a function saying when it does not apply (or None).
Rule = namedtuple("Rule", "setting key exempt", defaults=(None,))

# Counts each key's window, stopping at the first limit that a request goes over: (its position from 1, or 0).
COUNT_SCRIPT = """
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('EXPIRE', key, ARGV[2 * i - 1]) end
  if count > tonumber(ARGV[2 * i]) then return i end
end
return 0
"""


def rate_limited(*rules):
    """A view decorator: 429 with Retry-After (the limit's window) once a request goes over one of the rules."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            checks = [
                (item, rule.key())
                for rule in rules
                if not (rule.exempt and rule.exempt())
                for item in _items(current_app.config[rule.setting])
            ]
            over = first_exceeded(checks)
            if over is not None:
                response = error_response(429, message_for_status(429))
                response.headers["Retry-After"] = str(over.get_expiry())
                return response
            return view(*args, **kwargs)

        return wrapped

    return decorator


def first_exceeded(checks):
    """Count a hit on each (limit item, key); return the first item the hit went over, or None."""
    if not checks:
        return None
    uri = current_app.config["RATELIMIT_STORAGE_URI"]
    if uri.startswith(REDIS_SCHEMES) and time.monotonic() >= _dead_until.get(uri, 0.0):
        # A key holds the app's prefix (limit_key) and what the request sent, which may be a lone surrogate.
        keys = [item.key_for(key).encode("utf-8", "surrogatepass") for item, key in checks]
        args = [value for item, _key in checks for value in (item.get_expiry(), item.amount)]
        try:
            over = _script(uri, current_app.config["BROKER_TIMEOUT"])(keys=keys, args=args)
            return checks[over - 1][0] if over else None
        except (redis.RedisError, ValueError) as exc:  # ValueError: a URI redis-py cannot use
            log.warning("rate-limit storage unreachable, counting in memory for %.0f s: %s", RETRY_SECONDS, exc)
            _dead_until[uri] = time.monotonic() + RETRY_SECONDS
    limiter = _memory_limiter()
    return next((item for item, key in checks if not limiter.hit(item, key)), None)


_dead_until = {}  # storage URI -> when to try it again after it failed


@functools.cache
def _script(uri, timeout):
    return broker.publisher(uri, timeout).register_script(COUNT_SCRIPT)


@functools.cache
def _memory_limiter():
    return FixedWindowRateLimiter(MemoryStorage())


@functools.cache
def _items(setting):
    """The limits of a setting such as "200 per second" or "10 per second; 1000 per hour"."""
    return tuple(parse_many(setting))


def site_key():
    """The key a site's requests to this route are counted under: each route has the limit, as with Flask-Limiter."""
    return limit_key("site", g.site.id, request.endpoint)
