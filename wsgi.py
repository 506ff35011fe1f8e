from app import create_app
from app.config import SettingsError

try:
    app = create_app()
except SettingsError as refused:
    # One sentence saying what to set, without a traceback around it.
    raise SystemExit(f"orders hub cannot start: {refused}") from None
