"""Admin page for a site's webhook: its URL and signing secret, the delivery log, «Повторить»."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from moderation.dashboard import admin_required, bp
from moderation.dashboard.admin import check_csrf, posted, record
from moderation.db import db
from moderation.models import Site, WebhookDelivery
from moderation.services import audit, webhooks

DELIVERY_STATES = {
    "pending": _l("retrying"),
    "delivered": _l("delivered"),
    "failed": _l("failed"),
    "superseded": _l("replaced by a newer event"),
}


def _site(site_id):
    return db.session.get(Site, site_id) or abort(404)


def _page(site, secret=None, status=200):
    return render_template(
        "dashboard/admin_webhook.html",
        active_nav="admin",
        admin_tab="sites",
        site=site,
        secret=secret,
        deliveries=webhooks.log_of(site.id),
        failing=webhooks.keeps_failing(site.id),
        states=DELIVERY_STATES,
    ), status


@bp.get("/admin/sites/<int(max=2147483647):site_id>/webhook")
@admin_required
def admin_webhook(site_id):
    """The site's webhook and its latest deliveries."""
    return _page(_site(site_id))


@bp.post("/admin/sites/<int(max=2147483647):site_id>/webhook")
@admin_required
def admin_webhook_set(site_id):
    """Set the URL (a new secret, shown once), rotate the secret, or stop the webhook."""
    check_csrf()
    site = _site(site_id)
    action, old = posted("action", 16), site.webhook_url
    if action == "off":
        webhooks.remove_webhook(site)
        record(audit.SITE_WEBHOOK, site_id=site.id, name=site.name, old=old, new=None)
        flash(_("The webhook of %(name)s is off.", name=site.name), "success")
        return redirect(url_for("dashboard.admin_webhook", site_id=site.id))
    url = posted("url", 2001) if action == "set" else site.webhook_url
    if action not in ("set", "rotate") or (action == "rotate" and not url):
        abort(400)
    try:
        secret = webhooks.set_webhook(site, url)
    except webhooks.WebhookError:
        db.session.rollback()
        flash(_("A webhook URL starts with http:// or https:// and names a host (at most 2000 characters)."), "error")
        return _page(site, status=400)
    record(audit.SITE_WEBHOOK, site_id=site.id, name=site.name, old=old, new=site.webhook_url, secret="new")
    return _page(site, secret=secret)


@bp.post("/admin/webhooks/<int(max=2147483647):delivery_pk>/redeliver")
@admin_required
def admin_webhook_redeliver(delivery_pk):
    """Send a delivery again, with the same delivery id (the site may have lost it, or been down a day)."""
    check_csrf()
    delivery = db.session.get(WebhookDelivery, delivery_pk) or abort(404)
    if not webhooks.redeliver(delivery):
        flash(_("A newer event of this comment replaced this one; it is not sent again."), "error")
        return redirect(url_for("dashboard.admin_webhook", site_id=delivery.site_id))
    webhooks.send_soon([delivery])
    record(audit.WEBHOOK_REDELIVER, site_id=delivery.site_id, delivery=delivery.delivery_id, event=delivery.event)
    flash(_("Sent again: %(event)s.", event=delivery.event), "success")
    return redirect(url_for("dashboard.admin_webhook", site_id=delivery.site_id))
