"""Modifiers and allergens on the dashboard: the product form's allergen checkboxes, the order
page's modifiers and allergy banner, and the kiosk card's acknowledgement."""
from decimal import Decimal

from app.core.modifiers import Modifier
from app.services import products
from app.services.tickets import LineInput, create_ticket
from tests.web.helpers import HTMX, sign_in


def test_the_product_form_keeps_allergens_and_refuses_unknown_ones(client, catalog, admin):
    sign_in(client, admin)
    response = client.post("/admin/products", data={
        "code": "PIE", "name": "Pie", "price": "6", "station_names": ["Kitchen"],
        "allergens": ["milk", "gluten"]})
    assert response.status_code == 303
    assert products.get_product("PIE").allergens == ("gluten", "milk")
    page = client.get("/admin/products/PIE").get_data(as_text=True)
    ticked = {line.split('value="')[1].split('"')[0] for line in page.split("<input")
              if 'name="allergens"' in line and "checked" in line}
    assert ticked == {"gluten", "milk"}
    assert "Gluten, Milk" in client.get("/admin/products").get_data(as_text=True)
    refused = client.post("/admin/products", data={"code": "TART", "name": "Tart",
                                                   "price": "6", "allergens": ["shrimp"]})
    assert refused.status_code == 422 and "Unknown allergen" in refused.get_data(as_text=True)


def test_the_order_page_shows_modifiers_and_the_allergy(client, catalog, waiter, manager):
    _, (order,) = create_ticket(user=waiter, device=catalog, name="Table 3", lines=[
        LineInput("FRIES", Decimal(1), modifiers=(Modifier("Aioli", Decimal(2)),),
                  allergies=("eggs",))])
    sign_in(client, manager)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "+ 2 × Aioli" in page
    assert 'class="allergy-banner"' in page and "<b>Allergy:</b> Eggs" in page


def test_a_kiosk_card_with_an_allergy_offers_acknowledge_before_bump(client, catalog, waiter,
                                                                     manager):
    _, (order,) = create_ticket(user=waiter, device=catalog, name="Table 3", lines=[
        LineInput("FRIES", Decimal(1), allergies=("fish",))])
    sign_in(client, manager)
    page = client.get("/kiosk/Kitchen").get_data(as_text=True)
    assert "ALLERGY</span> Fish" in page and "Acknowledge allergy" in page
    assert f"/kiosk/Kitchen/orders/{order.id}/bump" not in page
    refused = client.post(f"/kiosk/Kitchen/orders/{order.id}/bump", headers=HTMX)
    assert refused.status_code == 409
    done = client.post(f"/kiosk/Kitchen/orders/{order.id}/acknowledge-allergies",
                       headers=HTMX)
    assert done.status_code == 200
    board = done.get_data(as_text=True)
    assert "acknowledged" in board and f"/kiosk/Kitchen/orders/{order.id}/bump" in board
    assert client.post(f"/kiosk/Kitchen/orders/{order.id}/bump",
                       headers=HTMX).status_code == 200


def test_the_expo_card_names_the_allergy_and_the_modifiers(client, catalog, waiter, manager):
    create_ticket(user=waiter, device=catalog, name="Table 6", lines=[
        LineInput("BURGER", Decimal(1), modifiers=(Modifier("Bacon"),),
                  allergies=("mustard", "eggs"))])
    sign_in(client, manager)
    page = client.get("/kiosk/expo").get_data(as_text=True)
    assert "ALLERGY</span> Eggs, Mustard" in page
    assert '<span class="modifier">+ Bacon</span>' in page
