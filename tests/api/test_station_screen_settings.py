"""The kiosk screen settings of a station through the API: stored as given, a bad value refused
with the same message the station form shows."""
from tests.conftest import bearer


def test_compact_is_saved_and_a_bad_value_is_refused(client, catalog, admin):
    headers = bearer(admin)
    kitchen = client.get("/api/orderendpoints/Kitchen", headers=headers).json
    body = {"name": "Kitchen", "type": "display", "isActive": True, "address": None,
            "_v": kitchen["_v"]}
    refused = client.put("/api/orderendpoints/Kitchen", headers=headers,
                         json={**body, "settings": {"compact": "maybe"}})
    assert refused.status_code == 400
    assert [(e["memberName"], e["message"]) for e in refused.json["errors"]] == [
        ("settings", "compact must be on or off (true/false, yes/no, 1/0), not 'maybe'.")]
    saved = client.put("/api/orderendpoints/Kitchen", headers=headers,
                       json={**body, "settings": {"compact": "on"}})
    assert saved.status_code == 200 and saved.json["settings"] == {"compact": "on"}
    described = client.get("/api/openapi.json", headers=headers).json[
        "components"]["schemas"]["Station"]
    assert "compact" in described["properties"]["settings"]["description"]
