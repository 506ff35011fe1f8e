"""Admin pages (users, stations, products) and every user's own API keys."""
import re
from decimal import Decimal
from functools import wraps

from flask import Blueprint, flash, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.core import allergens as A
from app.core import order_types as OT
from app.core import rights as R
from app.core import station_settings as SS
from app.core.errors import Conflict, FieldError, Forbidden, Invalid, VersionMismatch
from app.services import dispatch, station_health
from app.services import products as product_service
from app.services import stations as station_service
from app.services import users as user_service
from app.web.auth import keep_this_session
from app.web.forms import EmptyForm, form_errors, require_submitted, show_once, take_shown
from app.web.htmx import is_fragment_request, redirect, render

bp = Blueprint("admin", __name__)
STALE = ("{what} was changed by someone else while you were editing it. The form now shows "
         "its current state; nothing was saved. Check it and save again.")


@bp.app_template_filter("dom_id")
def dom_id(name: str) -> str:
    """A name as an HTML id part: letters, digits and '-' stay, anything else is escaped, so two
    names never share an id."""
    return re.sub(r"[^A-Za-z0-9-]", lambda m: f"_{ord(m.group()):x}_", name)


@bp.app_template_filter("plain_decimal")
def plain_decimal(value):
    """12.5000 as 12.50 and 0.1234 as 0.1234: at least two decimals, no trailing noise."""
    if value is None:
        return None
    value = value.normalize()
    return Decimal(f"{value:.2f}") if value.as_tuple().exponent >= -2 else value


def admin_required(view):
    """Signed in (else the sign-in page), and an admin (else 403)."""
    @wraps(view)
    def guarded(*args, **kwargs):
        if R.ADMIN not in current_user.rights:
            raise Forbidden("This page is for administrators.")
        return view(*args, **kwargs)
    return login_required(guarded)


# --- forms: they parse; the services validate ------------------------------------------------

class CheckboxesField(SelectMultipleField):
    # Choices are not checked here: the service names unknown values in its own words.
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, validate_choice=False, **kwargs)


class NewUserForm(FlaskForm):
    user_name = StringField("User name")
    name = StringField("Name")
    password = PasswordField("Password")
    rights = CheckboxesField("Rights", choices=list(R.ALL))


class EditUserForm(FlaskForm):
    name = StringField("Name")
    rights = CheckboxesField("Rights", choices=list(R.ALL))
    is_active = BooleanField("Active (can sign in)")
    password = PasswordField("New password")
    version = IntegerField(name="_v", validators=[Optional()])


class StationForm(FlaskForm):
    """The station's fields, and one field per setting of app.core.station_settings (added
    below), each showing its default."""
    name = StringField("Name")
    type = SelectField("Type", choices=list(station_service.TYPES), validate_choice=False)
    is_active = BooleanField("Active", default=True)
    address = StringField("Address")
    backup = SelectField("Backup station", validate_choice=False)
    secret = PasswordField("Secret")
    version = IntegerField(name="_v", validators=[Optional()])


def _field_name(setting: SS.StationSetting) -> str:
    return "order_types" if setting.kind == SS.TYPES else setting.key


@bp.app_template_global("setting_field")
def setting_field(form: StationForm, setting: SS.StationSetting):
    """The station form's field of a setting (templates/admin/macros.html)."""
    return form[_field_name(setting)]


def _setting_field(setting: SS.StationSetting):
    if setting.kind == SS.FLAG:
        return BooleanField(setting.label, default=setting.default in SS.TRUE)
    if setting.kind == SS.CHOICE:
        return SelectField(setting.label, choices=list(setting.choices),
                           default=setting.default, validate_choice=False)
    if setting.kind == SS.TYPES:
        return CheckboxesField(setting.label, default=list(OT.ALL),
                               choices=[SelectChoice(t, OT.LABELS[t]) for t in OT.ALL])
    return StringField(setting.label, default=setting.default)


for _setting in SS.SETTINGS:
    setattr(StationForm, _field_name(_setting), _setting_field(_setting))


class ProductForm(FlaskForm):
    code = StringField("Code")
    name = StringField("Name")
    price = DecimalField("Price", places=None, validators=[Optional()])
    station_names = CheckboxesField("Stations")
    course = IntegerField("Course", validators=[Optional()])
    prep_seconds = IntegerField("Prep time (seconds)", validators=[Optional()])
    allergens = CheckboxesField("Allergens it contains",
                                choices=[SelectChoice(a, A.LABELS[a]) for a in A.ALL])
    version = IntegerField(name="_v", validators=[Optional()])


class VersionForm(FlaskForm):
    version = IntegerField(name="_v", validators=[Optional()])


class ApiKeyForm(FlaskForm):
    name = StringField("Name")


def attempt(form, write):
    """Parse the form, then run the service write; returns (result, errors, status)."""
    if not form.validate_on_submit():
        return None, form_errors(form), 422
    try:
        return write(), [], 200
    except Invalid as refused:
        return None, refused.errors or [FieldError("", refused.message)], 422
    except Conflict as refused:
        return None, refused.errors, 409


# --- users ---------------------------------------------------------------------------------

@bp.route("/admin/users", methods=["GET", "POST"])
@admin_required
def users():
    form, errors, status = NewUserForm(), [], 200
    if request.method == "POST":
        created, errors, status = attempt(form, lambda: user_service.create_user(
            user=current_user, user_name=form.user_name.data, password=form.password.data,
            name=form.name.data, rights=form.rights.data))
        if created:
            flash(f"User {created.user_name} was created.")
            return redirect(url_for("admin.users"))
    return render("admin/users.html", "admin/_users_table.html", status=status, form=form,
                  errors=errors, users=user_service.list_users())


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def edit_user(user_id):
    user = user_service.find_user(user_id)
    form = EditUserForm(data=_user_data(user))
    errors, status, message = [], 200, None
    if request.method == "POST":
        my_session_version = current_user.session_version
        try:
            saved, errors, status = attempt(form, lambda: user_service.update_user(
                user=current_user, user_id=user.id, name=form.name.data,
                rights=form.rights.data, is_active=form.is_active.data,
                password=form.password.data or None, version=form.version.data))
        except VersionMismatch:
            user = user_service.find_user(user_id)
            form = EditUserForm(formdata=None, data=_user_data(user))
            saved, status, message = None, 409, STALE.format(what=f"User {user.user_name}")
        if saved:
            if saved.id == current_user.id and saved.session_version != my_session_version:
                # A new password of one's own ends one's other sessions, not this one.
                keep_this_session(saved)
            flash(f"User {saved.user_name} was saved.")
            return redirect(url_for("admin.users"))
    return render("admin/edit_user.html", status=status, form=form, errors=errors,
                  message=message, user=user)


def _user_data(user) -> dict:
    return {"name": user.name, "rights": user.rights, "is_active": user.is_active,
            "version": user.version}


# --- stations ------------------------------------------------------------------------------

def _form_value(setting: SS.StationSetting, data) -> str | None:
    """A setting's field as the setting's text; None for an empty field (the default)."""
    if setting.kind == SS.FLAG:
        return "on" if data else "off"
    if setting.kind == SS.TYPES:
        # None ticked (a form without the boxes) is the default, every type.
        return ",".join(data) if data else None
    return (data or "").strip() or None


def _station_fields(form: StationForm, kept: dict | None = None) -> dict:
    """The service's arguments. Settings: those that apply to the chosen type and differ from
    their default, and `kept`, the keys the hub does not know (set through the API)."""
    settings = dict(kept or {})
    for setting in SS.settings_for(form.type.data):
        value = _form_value(setting, getattr(form, _field_name(setting)).data)
        if value is None or (not setting.problems(value) and setting.is_default(value)):
            continue
        settings[setting.key] = value
    return {"name": form.name.data or "", "type": form.type.data,
            "is_active": form.is_active.data, "address": form.address.data or None,
            "settings": settings, "secret": form.secret.data or None,
            "backup_station_name": form.backup.data or None}


def _kept_settings(station) -> dict:
    return {k: v for k, v in (station.settings or {}).items() if k not in SS.BY_KEY}


def _station_data(station) -> dict:
    data = {"name": station.name, "type": station.type, "is_active": station.is_active,
            "address": station.address or "", "version": station.version,
            "backup": station.backup.name if station.backup else ""}
    for setting in SS.SETTINGS:
        value = setting.read(station.settings)
        if setting.kind == SS.TYPES:
            value = list(OT.station_types(station.settings))
        elif setting.kind == SS.NUMBER:
            value = str(value)
        data[_field_name(setting)] = value
    return data


def _station_form(station=None, formdata=True) -> StationForm:
    data = _station_data(station) if station is not None else {}
    form = StationForm(data=data) if formdata else StationForm(formdata=None, data=data)
    form.backup.choices = [("", "None")] + [
        (s.name, s.name) for s in station_service.list_stations()
        if station is None or s.id != station.id]
    return form


def _station_rows(found) -> dict:
    """What the station list shows beside each station: its health and the entries waiting
    for it."""
    return {"health": station_health.health_of(found),
            "waiting": station_health.waiting_counts()}


@bp.route("/admin/stations", methods=["GET", "POST"])
@admin_required
def stations():
    form, errors, status = _station_form(), [], 200
    if request.method == "POST":
        created, errors, status = attempt(form, lambda: station_service.create_station(
            **_station_fields(form)))
        if created:
            flash(f"Station {created.name} was created.")
            return redirect(url_for("admin.stations"))
    found = station_service.list_stations()
    return render("admin/stations.html", "admin/_stations_table.html", status=status,
                  form=form, errors=errors, stations=found, **_station_rows(found))


@bp.route("/admin/stations/<name>", methods=["GET", "POST"])
@admin_required
def edit_station(name):
    station = station_service.get_station(name)
    form = _station_form(station)
    errors, status, message = [], 200, None
    if request.method == "POST":
        try:
            saved, errors, status = attempt(form, lambda: station_service.update_station(
                name, version=form.version.data,
                **_station_fields(form, kept=_kept_settings(station))))
        except VersionMismatch:
            station = station_service.get_station(name)
            form = _station_form(station, formdata=False)
            saved, status, message = None, 409, STALE.format(what=f"Station {name}")
        if saved:
            flash(f"Station {saved.name} was saved.")
            return redirect(url_for("admin.stations"))
    return render("admin/edit_station.html", status=status, form=form, errors=errors,
                  station=station, message=message, deliveries=dispatch.deliveries(station),
                  kept=_kept_settings(station))


@bp.post("/admin/stations/<name>/active")
@admin_required
def toggle_station(name):
    """The one-click on/off switch of the station list; swaps the station's row under htmx."""
    form = VersionForm()
    require_submitted(form)
    wanted = request.form.get("is_active") == "on"
    try:
        station = station_service.set_station_active(name, is_active=wanted,
                                                     version=form.version.data)
    except VersionMismatch:
        raise Conflict(f"Station {name} was changed by someone else meanwhile; nothing was "
                       "switched. Reload the page to see its current state.") from None
    if is_fragment_request():
        return render("admin/stations.html", "admin/_station_row.html", station=station,
                      **_station_rows([station]))
    flash(f"Station {station.name} is now {'on' if station.is_active else 'off'}.")
    return redirect(url_for("admin.stations"))


# --- products ------------------------------------------------------------------------------

def _product_fields(form: ProductForm) -> dict:
    return {"code": form.code.data or "", "name": form.name.data or "",
            "price": form.price.data, "station_names": form.station_names.data,
            "course": form.course.data, "prep_seconds": form.prep_seconds.data,
            "allergens": form.allergens.data or []}


def _product_form(product=None, formdata=True) -> ProductForm:
    data = {} if product is None else {
        "code": product.code, "name": product.name, "price": plain_decimal(product.price),
        "station_names": [s.name for s in product.stations], "course": product.course,
        "prep_seconds": product.prep_seconds, "allergens": list(product.allergens or ()),
        "version": product.version}
    form = ProductForm(data=data) if formdata else ProductForm(formdata=None, data=data)
    form.station_names.choices = [s.name for s in station_service.list_stations()]
    return form


@bp.route("/admin/products", methods=["GET", "POST"])
@admin_required
def products():
    form, errors, status = _product_form(), [], 200
    if request.method == "POST":
        created, errors, status = attempt(form, lambda: product_service.create_product(
            **_product_fields(form)))
        if created:
            flash(f"Product {created.code} was created.")
            return redirect(url_for("admin.products"))
    return render("admin/products.html", "admin/_products_table.html", status=status,
                  form=form, errors=errors, products=product_service.list_products())


@bp.route("/admin/products/<code>", methods=["GET", "POST"])
@admin_required
def edit_product(code):
    product = product_service.get_product(code)
    form = _product_form(product)
    errors, status, message = [], 200, None
    if request.method == "POST":
        try:
            saved, errors, status = attempt(form, lambda: product_service.update_product(
                code, version=form.version.data, **_product_fields(form)))
        except VersionMismatch:
            product = product_service.get_product(code)
            form = _product_form(product, formdata=False)
            saved, status, message = None, 409, STALE.format(what=f"Product {code}")
        if saved:
            flash(f"Product {saved.code} was saved.")
            return redirect(url_for("admin.products"))
    return render("admin/edit_product.html", status=status, form=form, errors=errors,
                  product=product, message=message)


@bp.route("/admin/products/<code>/delete", methods=["GET", "POST"])
@admin_required
def delete_product(code):
    product = product_service.get_product(code)
    form = VersionForm(data={"version": product.version})
    if request.method == "POST":
        require_submitted(form)
        try:
            product_service.delete_product(code, version=form.version.data)
        except VersionMismatch:
            raise Conflict(f"Product {code} was changed by someone else meanwhile; it was not "
                           "deleted. Look at it again first.") from None
        flash(f"Product {code} was deleted.")
        return redirect(url_for("admin.products"))
    return render("admin/delete_product.html", form=form, product=product)


# --- API keys: every signed-in user, their own keys only ----------------------------------

@bp.route("/account/api-keys", methods=["GET", "POST"])
@login_required
def api_keys():
    form, errors, status, secret = ApiKeyForm(), [], 200, None
    if request.method == "POST":
        created, errors, status = attempt(form, lambda: user_service.create_api_key(
            user=current_user, name=form.name.data or ""))
        if created:
            # Post, redirect, get: a reload shows the list, it does not make another key.
            show_once("api_key", created[1])
            return redirect(url_for("admin.api_keys"))
    elif not is_fragment_request():  # the fragment has no place for it: keep it for the page
        secret = take_shown("api_key")
    response = render("admin/api_keys.html", "admin/_api_keys_table.html", status=status,
                      form=form, errors=errors, secret=secret,
                      keys=user_service.list_api_keys(user=current_user))
    if secret:
        response.headers["Cache-Control"] = "no-store"  # the secret must not linger in caches
    return response


@bp.post("/account/api-keys/<int:key_id>/revoke")
@login_required
def revoke_api_key(key_id):
    form = EmptyForm()
    require_submitted(form)
    key = user_service.revoke_api_key(user=current_user, key_id=key_id)
    if is_fragment_request():
        return render("admin/api_keys.html", "admin/_api_key_row.html", key=key)
    flash(f"The API key {key.name} was revoked; it no longer works.")
    return redirect(url_for("admin.api_keys"))
