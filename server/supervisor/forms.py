"""The pages' forms. Every POST carries Flask-WTF's CSRF token; labels and
messages are written in the templates, in the reader's language."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, PasswordField, StringField, SubmitField, TextAreaField
from wtforms.fields import DateField, TimeField
from wtforms.validators import AnyOf, DataRequired, Length, Optional


class LoginForm(FlaskForm):
    username = StringField(validators=[DataRequired(), Length(max=64)])
    password = PasswordField(validators=[DataRequired(), Length(max=200)])
    next = HiddenField()


class CsrfForm(FlaskForm):
    """A button-only form (log out, resolve, confirm): just the token."""


class ResolveForm(FlaskForm):
    keep = SubmitField()
    restore = SubmitField()
    # Required by the rules when the resolution amends a done visit.
    reason = TextAreaField(validators=[Optional(), Length(max=2000)])

    @property
    def resolution(self) -> str | None:
        if self.keep.data:
            return "kept"
        if self.restore.data:
            return "restored"
        return None


class PaymentReviewForm(FlaskForm):
    note = TextAreaField(validators=[Optional(), Length(max=2000)])
    confirm = SubmitField()
    reject = SubmitField()

    @property
    def decision(self) -> str | None:
        if self.confirm.data:
            return "confirm"
        if self.reject.data:
            return "reject"
        return None


class AssignForm(FlaskForm):
    # The page offers a list; the action checks the id names an active collector.
    collector = StringField(validators=[Optional(), Length(max=36)])


class EscalateForm(FlaskForm):
    level = StringField(validators=[AnyOf(("agency", "legal"))])


class ImportUploadForm(FlaskForm):
    file = FileField(validators=[FileRequired()])


class ImportConfirmForm(FlaskForm):
    # The checked file travels back with the confirmation and is checked
    # again before anything is written, so no server-side state is needed.
    csv_text = HiddenField(validators=[DataRequired()])


class ClearLoginFailuresForm(FlaskForm):
    username = HiddenField(validators=[DataRequired(), Length(max=64)])
    address = HiddenField(validators=[Optional(), Length(max=64)])


class RedactForm(FlaskForm):
    # The rules (entities/attachment.py) decide what counts as a reason.
    reason = TextAreaField(validators=[DataRequired(), Length(max=500)])


class AmendVisitForm(FlaskForm):
    """The visit page's correction of a done visit. The fields themselves
    are read from the request by ``amend_form.read_changes`` (one control
    per outcome field); this form holds the token, the version the page
    showed and the reason."""

    version = HiddenField(validators=[Optional(), Length(max=12)])
    reason = TextAreaField(validators=[Optional(), Length(max=2000)])


# -- an account's contact restrictions (restriction_actions.py) ----------------


class WindowForm(FlaskForm):
    """A do-not-visit window on the account's wall clock; no time is the
    start (from) or the end (to) of the day."""

    from_date = DateField(validators=[DataRequired()])
    from_time = TimeField(validators=[Optional()])
    to_date = DateField(validators=[DataRequired()])
    to_time = TimeField(validators=[Optional()])
    reason = StringField(validators=[DataRequired(), Length(max=200)])


class RemoveWindowForm(FlaskForm):
    key = HiddenField(validators=[DataRequired(), Length(max=2000)])


class JurisdictionForm(FlaskForm):
    # The page offers the configured codes; the write layer checks the code.
    code = StringField(validators=[Optional(), Length(max=2)])


# -- planning from the pages (planning_actions.py) -------------------------------


class PlanVisitForm(FlaskForm):
    """A new visit: the day and time on the supervisor's wall clock
    (``formatting.display_zone``). The page offers lists of accounts and
    collectors; the action checks that the ids name them."""

    account = StringField(validators=[Optional(), Length(max=36)])
    collector = StringField(validators=[DataRequired(), Length(max=36)])
    day = DateField(validators=[DataRequired()])
    time = TimeField(validators=[DataRequired()])
    notes = TextAreaField(validators=[Optional(), Length(max=2000)])


class MoveVisitForm(FlaskForm):
    version = HiddenField(validators=[Optional(), Length(max=12)])
    collector = StringField(validators=[DataRequired(), Length(max=36)])
    day = DateField(validators=[DataRequired()])
    time = TimeField(validators=[DataRequired()])


class CancelVisitForm(FlaskForm):
    version = HiddenField(validators=[Optional(), Length(max=12)])
    reason = TextAreaField(validators=[DataRequired(), Length(max=500)])


class BulkReassignForm(FlaskForm):
    # The ids come as repeated ``account`` fields (request.form.getlist);
    # planning_actions.selected_ids checks them.
    collector = StringField(validators=[DataRequired(), Length(max=36)])
