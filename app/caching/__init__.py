"""Caches of parts of answers, per process: serialised orders, drawn dashboard rows and kiosk
cards, each keyed by the version of what it shows. They sit below the authorisation checks:
a view asks for them only after deciding what the caller may see."""
