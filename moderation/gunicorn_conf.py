"""gunicorn's settings for the web server; `moderation run` uses them, and production can too.

    gunicorn -c python:moderation.gunicorn_conf

Address, port and workers come from the same MODERATION_* environment as the rest of the service.
"""

from moderation import config as settings

_settings = settings.from_environment()

wsgi_app = "moderation:create_app()"
bind = [f"{_settings['HOST']}:{_settings['PORT']}"]
workers = _settings["WEB_WORKERS"]
# Malformed requests (request line or headers too long, too many headers, bad characters) are answered
# with the API's JSON error, not gunicorn's HTML page.
worker_class = "moderation.server.JsonErrorWorker"
accesslog = "-"

# What to believe of X-Forwarded-* is decided by the app alone (werkzeug's ProxyFix, MODERATION_PROXY_COUNT;
# see security.py). gunicorn's defaults would trust X-Forwarded-Proto (and SCRIPT_NAME/PATH_INFO headers)
# from 127.0.0.1 on their own, so with no proxy a local client could pass a plain request off as HTTPS.
forwarded_allow_ips = ""
secure_scheme_headers = {}
forwarder_headers = ""

# gunicorn's own limits, stated here because the API's documentation relies on them: a longer request line
# is 414, a longer header or more headers 431.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190


def post_worker_init(worker):
    """Load the model before the first request: the synchronous APIs (Perspective, Akismet, Coral) answer within
    their clients' timeouts from the first call on."""
    from moderation.services import instant

    instant.warm_up(worker.wsgi)
