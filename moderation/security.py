"""Browser-facing security: cookies Secure over HTTPS, proxy headers, and headers on every page."""

from flask import request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

# Scripts and styles come only from our own static files; no inline script can run.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
# Browsers that saw the service over HTTPS keep to HTTPS for a year. Sent only on HTTPS answers, where
# browsers heed it; no includeSubDomains, since other hosts of the site's domain are not ours to decide.
HSTS = "max-age=31536000"


class SessionInterface(SecureCookieSessionInterface):
    """Mark the session cookie Secure whenever the request came over HTTPS, or always if configured."""

    def get_cookie_secure(self, app):
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (
            str(app.config["SECURE_COOKIES"]).lower() == "auto" and request.is_secure
        )


def init_app(app):
    """Install the session interface, proxy handling and response headers."""
    app.session_interface = SessionInterface()
    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if request.is_secure:  # as the app sees it: ProxyFix has applied a trusted X-Forwarded-Proto
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Referrer-Policy", "same-origin")
            response.headers.setdefault("Cache-Control", "no-store")
        return response
