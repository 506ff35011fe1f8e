"""WTForms for the dashboard: they parse; the services validate."""
from flask import session
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.core.errors import FieldError, Invalid


class SignInForm(FlaskForm):
    user_name = StringField("User name", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    remember = BooleanField("Keep me signed in")


class EmptyForm(FlaskForm):
    """A form with only its CSRF token: every button that writes posts one."""


def form_errors(form) -> list[FieldError]:
    """The form's parse errors as the FieldErrors every surface shows."""
    return [FieldError(name, f"{form[name].label.text}: {message}" if name in form else message)
            for name, messages in form.errors.items() for message in messages]


def require_submitted(form: FlaskForm | None = None) -> FlaskForm:
    """The posted form, parsed; Invalid when it cannot be (a stale CSRF token, a bad field)."""
    form = form or EmptyForm()
    if not form.validate_on_submit():
        raise Invalid(form_errors(form), "The form could not be read; reload the page.")
    return form


def show_once(name: str, value) -> None:
    """Keep `value` (a secret just made) for the page that the redirect after the form's POST
    leads to, which takes it with take_shown: reloading that page then posts nothing again and
    no longer shows it. It rides in the signed session cookie for that one redirect."""
    session[f"show_once:{name}"] = value


def take_shown(name: str):
    """What show_once kept under `name`, once; None after that."""
    return session.pop(f"show_once:{name}", None)
