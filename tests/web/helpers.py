"""Signing in a browser-like test client."""
from tests.conftest import PASSWORD

HTMX = {"HX-Request": "true"}


def sign_in(client, user):
    response = client.post("/sign-in", data={"user_name": user.user_name,
                                             "password": PASSWORD})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    return client
