"""Dashboard forms; every one carries a CSRF token (Flask-WTF)."""

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from moderation.models import ROLES


class DashboardForm(FlaskForm):
    """Flask-WTF's form, filled from form bodies only (the dashboard's pages and script send nothing else)."""

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            """No data from a JSON body: Flask-WTF would hand its lists and numbers to text fields (a 500)."""
            if request.is_json:
                return None
            return super().wrap_formdata(form, formdata)


class LoginForm(DashboardForm):
    """Sign-in: the contract names the inputs `login` and `password`."""

    login = StringField(_l("Login"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    next = HiddenField()


class ActionForm(DashboardForm):
    """A moderator's action on one comment or a selection; the view checks action and reason."""

    action = HiddenField()
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=40)])
    expected = HiddenField()  # the status the moderator saw; a colleague's later decision is not overwritten
    next = HiddenField()


class EmptyForm(DashboardForm):
    """A form with nothing but its CSRF token: undo, sign-out, promote, delete."""

    next = HiddenField()


class SiteForm(DashboardForm):
    """A new site."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    timezone = StringField(_l("Time zone"), default="Asia/Almaty", validators=[DataRequired(), Length(max=64)])


class UserForm(DashboardForm):
    """A new moderator or admin."""

    login = StringField(_l("Login"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=200)])
    role = SelectField(_l("Role"), choices=[SelectChoice(r, r) for r in ROLES])


class ReasonForm(DashboardForm):
    """An admin's own reject reason."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)])
    label = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    toxic = BooleanField(_l("Teaches toxicity"))


class BanForm(DashboardForm):
    """A ban by e-mail, IP or IP range."""

    kind = SelectField(_l("Kind"), choices=[SelectChoice("email", "e-mail"), SelectChoice("ip", "IP")])
    value = StringField(_l("Value"), validators=[DataRequired(), Length(max=254)])
