"""The audit log's vocabulary: every action that can be recorded, beside the label people read, and how to record one.

An action recorded without a label here would show as its bare code and could not be picked in the audit
page's filter; tests/unit/test_audit_vocabulary.py checks that every action has one.
"""

from flask_babel import lazy_gettext as _l

from moderation.db import db
from moderation.models import AuditEvent

# Decisions on comments (status.change): moderators', the site's, the filter's, and the rules' holds.
APPROVE, REJECT, MARK_SPAM, HOLD = "approve", "reject", "spam", "hold"
FILTER = "filter"  # the filter's decision on a pending comment
BAN, UNDO = "ban", "undo"  # a moderator's ban of a comment's author; the undo of a moderator's last batch
CAMPAIGN_HOLD = "campaign_hold"  # an approved comment held as part of a campaign
REPORTS_HOLD = "reports_hold"  # an approved comment held after readers' complaints
COMPLAINT = "complaint"  # a reader's complaint

# Admins' changes, from the dashboard or the command line.
SITE_ADD, SITE_KEY_ROTATE, SITE_TIMEZONE = "site_add", "site_key_rotate", "site_timezone"
SITE_RULES, SITE_BUDGET, SITE_WEBHOOK, SITE_CORAL = "site_rules", "site_budget", "site_webhook", "site_coral"
SITE_LEARNING, SITE_MODEL = "site_learning", "site_model"
WEBHOOK_REDELIVER = "webhook_redeliver"
USER_ADD, USER_ROLE, USER_DISABLE, USER_ENABLE, USER_TOKEN = (
    "user_add",
    "user_role",
    "user_disable",
    "user_enable",
    "user_token",
)
REASON_ADD, REASON_TOGGLE, REASON_DELETE = "reason_add", "reason_toggle", "reason_delete"
BAN_ADD, BAN_REMOVE = "ban_add", "ban_remove"
THRESHOLD_SET = "threshold_set"
WORDS_ADD, WORDS_REMOVE = "words_add", "words_remove"
MODEL_PROMOTE, MODEL_ROLLBACK, MODEL_RETRAIN, MODEL_DELETE = (
    "model_promote",
    "model_rollback",
    "model_retrain",
    "model_delete",
)
# A site's automatic retrain (services/learning.py): its new version made the site's own, or kept as a candidate.
MODEL_AUTO_PROMOTE, MODEL_AUTO_KEEP = "model_auto_promote", "model_auto_keep"

# In the order the audit page's filter offers them.
LABELS = {
    APPROVE: _l("Approved"),
    REJECT: _l("Rejected"),
    MARK_SPAM: _l("Marked as spam"),
    BAN: _l("Banned the author"),
    UNDO: _l("Undid"),
    HOLD: _l("Put back on hold"),
    SITE_ADD: _l("Added a site"),
    SITE_KEY_ROTATE: _l("Rotated a site key"),
    SITE_TIMEZONE: _l("Changed a site's time zone"),
    USER_ADD: _l("Added a user"),
    USER_ROLE: _l("Changed a role"),
    USER_DISABLE: _l("Disabled a user"),
    USER_ENABLE: _l("Enabled a user"),
    USER_TOKEN: _l("Issued an API token"),
    REASON_ADD: _l("Added a reason"),
    REASON_TOGGLE: _l("Switched a reason"),
    REASON_DELETE: _l("Deleted a reason"),
    BAN_ADD: _l("Added a ban"),
    BAN_REMOVE: _l("Lifted a ban"),
    THRESHOLD_SET: _l("Changed thresholds"),
    MODEL_PROMOTE: _l("Promoted a model"),
    MODEL_ROLLBACK: _l("Rolled a model back"),
    SITE_RULES: _l("Changed a site's rules"),
    WORDS_ADD: _l("Added to a word list"),
    WORDS_REMOVE: _l("Removed from a word list"),
    FILTER: _l("Decided by the filter"),
    CAMPAIGN_HOLD: _l("Held as part of a campaign"),
    REPORTS_HOLD: _l("Held after readers' complaints"),
    COMPLAINT: _l("A reader complained"),
    SITE_BUDGET: _l("Changed a site's hold budget"),
    SITE_WEBHOOK: _l("Changed a site's webhook"),
    SITE_CORAL: _l("Changed a site's Coral moderation phase"),
    WEBHOOK_REDELIVER: _l("Sent a webhook event again"),
    SITE_LEARNING: _l("Changed how a site learns"),
    SITE_MODEL: _l("Changed a site's model"),
    MODEL_RETRAIN: _l("Retrained a model"),
    MODEL_DELETE: _l("Deleted a model"),
    MODEL_AUTO_PROMOTE: _l("Made a site's new model its own"),
    MODEL_AUTO_KEEP: _l("Kept a site's new model as a candidate"),
}


def record(action, *, via, user_id=None, **detail):
    """Write an admin's change (not tied to a comment) to the audit log and commit it."""
    db.session.add(AuditEvent(user_id=user_id, action=action, via=via, detail=detail))
    db.session.commit()
