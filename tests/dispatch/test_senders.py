"""Senders against loopback fakes: a printer, a refusing and a stalling one, a webhook receiver."""
import json
import socket
from datetime import datetime
from decimal import Decimal

import pytest

from app.dispatch.senders import (
    DEFAULT_PRINTER_PORT,
    check_webhook_url,
    parse_printer_address,
    post_webhook,
    send_to_printer,
    sign,
)
from app.dispatch.slips import Slip, SlipLine, render_slip
from tests.dispatch_fakes import (
    FakePrinter,
    WebhookReceiver,
    decode_slip,
    refusing_address,
    stalling_printer,
)

SECRET = "webhook-secret"
BODY = json.dumps({"id": "o1", "number": 7}).encode()
HEADERS = {"X-Orders-Delivery": "d-1", "X-Orders-Attempt": "1", "User-Agent": "orders-hub"}
FAST = dict(connect_timeout=0.3, send_timeout=0.3)


def post(url: str, **overrides):
    arguments = dict(body=BODY, secret=SECRET, headers=HEADERS, timeout=2)
    arguments.update(overrides)
    return post_webhook(url, **arguments)


# --- printers -------------------------------------------------------------------------------

def test_a_slip_sent_to_a_printer_arrives_as_one_job_byte_for_byte():
    slip = Slip(number=42, station="Bar", label="Anna", at=datetime(2024, 5, 1, 12, 0),
                lines=(SlipLine(Decimal(2), "Bière"),))
    data = render_slip(slip, {"beep": "on"})
    with FakePrinter() as printer:
        attempt = send_to_printer(printer.address, data, **FAST)
        [job] = printer.wait_for(1)
    assert attempt.ok and attempt.error is None and attempt.status_code is None
    assert attempt.duration_ms >= 0
    assert job == data
    assert "2 x Bière" in decode_slip(job).lines


def test_each_send_is_its_own_job():
    with FakePrinter() as printer:
        for data in (b"first\n", b"second\n"):
            assert send_to_printer(printer.address, data, **FAST).ok
        # Each connection is handled on a thread of its own, so the two may be recorded in
        # either order.
        assert sorted(printer.wait_for(2)) == [b"first\n", b"second\n"]


def test_a_refusing_printer_fails_with_a_reason():
    attempt = send_to_printer(refusing_address(), b"slip\n", **FAST)
    assert not attempt.ok and attempt.status_code is None
    assert attempt.error == "connection refused"


def test_a_stalling_printer_fails_at_the_connect_timeout():
    with stalling_printer() as address:
        attempt = send_to_printer(address, b"slip\n", connect_timeout=0.3, send_timeout=5)
    assert not attempt.ok
    assert attempt.error == "timed out connecting after 0.3 s"


def test_a_bad_printer_address_is_a_failed_attempt_not_an_exception():
    attempt = send_to_printer("printer:port", b"slip\n", **FAST)
    assert not attempt.ok and "port" in attempt.error


def test_an_unknown_printer_host_is_reported(monkeypatch):
    def lookup_fails(address, timeout):  # no real DNS lookup: tests stay offline and fast
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "create_connection", lookup_fails)
    attempt = send_to_printer("kitchen.example:9100", b"slip\n", **FAST)
    assert not attempt.ok and attempt.error == "cannot resolve host 'kitchen.example'"


@pytest.mark.parametrize("address, expected", [
    ("192.168.1.50", ("192.168.1.50", DEFAULT_PRINTER_PORT)),
    ("192.168.1.50:9101", ("192.168.1.50", 9101)),
    (" kitchen-printer.local:9100 ", ("kitchen-printer.local", 9100)),
    ("[fd00::5]:9100", ("fd00::5", 9100)),
    ("[fd00::5]", ("fd00::5", DEFAULT_PRINTER_PORT)),
])
def test_printer_addresses(address, expected):
    assert parse_printer_address(address) == expected


@pytest.mark.parametrize("address, says", [
    ("", "empty"),
    ("   ", "empty"),
    ("printer:", "port"),
    ("printer:0", "port"),
    ("printer:65536", "port"),
    ("printer:91a", "port"),
    (":9100", "host"),
    ("fd00::5", "brackets"),
    ("[fd00::5", "brackets"),
    ("[printer]:9100", "IPv6"),
    ("[fd00::5]9100", "port"),
    ("http://printer", "host"),
    ("my printer", "host"),
])
def test_bad_printer_addresses(address, says):
    with pytest.raises(ValueError, match=says):
        parse_printer_address(address)


# --- webhooks -------------------------------------------------------------------------------

def test_a_webhook_is_posted_signed_with_its_headers():
    with WebhookReceiver(SECRET) as receiver:
        attempt = post(receiver.url)
        [received] = receiver.wait_for(1)
    assert attempt.ok and attempt.status_code == 200 and attempt.error is None
    assert received.method == "POST" and received.body == BODY
    assert received.signature_ok
    assert received.headers["X-Orders-Signature-256"] == sign(SECRET, BODY)
    assert received.headers["Content-Type"] == "application/json"
    assert received.delivery_id == "d-1" and received.attempt == "1"
    assert received.headers["user-agent"] == "orders-hub"


def test_sign_is_hmac_sha256_in_hex():
    # From: printf '{}' | openssl dgst -sha256 -hmac key
    assert sign("key", b"{}") == (
        "sha256=a777724d943eb48dc69bca8a4a6d57a04db3f9ec7e1de4e581e860265bdf3032")
    assert sign("key", b"{ }") != sign("key", b"{}") != sign("other", b"{}")


def test_a_receiver_with_another_secret_sees_a_bad_signature():
    with WebhookReceiver("another-secret") as receiver:
        assert post(receiver.url).ok  # the receiver answers 200 anyway; it only records
        [received] = receiver.wait_for(1)
    assert not received.signature_ok


def test_a_server_error_is_a_failure_with_its_status():
    with WebhookReceiver(SECRET, statuses=[500, 201]) as receiver:
        failed = post(receiver.url)
        retried = post(receiver.url)
        receiver.wait_for(2)
    assert not failed.ok and failed.status_code == 500 and failed.error == "HTTP 500"
    assert retried.ok and retried.status_code == 201


def test_a_client_error_is_a_failure_with_its_status():
    with WebhookReceiver(SECRET, statuses=[410]) as receiver:
        attempt = post(receiver.url)
    assert not attempt.ok and attempt.status_code == 410 and attempt.error == "HTTP 410"


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirects_are_not_followed(status):
    with WebhookReceiver(SECRET, statuses=[status]) as receiver:
        attempt = post(receiver.url)
        receiver.wait_for(1)
        assert len(receiver.received) == 1
    assert not attempt.ok and attempt.status_code == status
    assert attempt.error == f"HTTP {status} (redirects are not followed)"


def test_a_refused_webhook_is_a_failure_without_status():
    attempt = post(f"http://{refusing_address()}/hook")
    assert not attempt.ok and attempt.status_code is None
    assert attempt.error == "connection refused"


def test_a_stalling_webhook_fails_at_the_timeout():
    with stalling_printer() as address:
        attempt = post(f"http://{address}/hook", timeout=0.3)
    assert not attempt.ok and attempt.status_code is None
    assert attempt.error == "timed out connecting after 0.3 s"


def test_a_bad_webhook_url_is_a_failed_attempt_not_an_exception():
    attempt = post("ftp://example.com/hook")
    assert not attempt.ok and attempt.status_code is None and "http" in attempt.error


@pytest.mark.parametrize("url", [
    "http://example.com/hook", "https://hooks.example.com:8443/a?b=c", "http://127.0.0.1:5000",
    "https://[fd00::5]/hook",
])
def test_good_webhook_urls(url):
    assert check_webhook_url(url) is None


@pytest.mark.parametrize("url", [
    "", "example.com/hook", "ftp://example.com", "file:///etc/passwd", "http://", "https:///path",
    "http://example.com:99999/", "http://example.com:port/", "http://exa mple.com/",
    "http://example.com/\r\nX-Injected: 1", "javascript:alert(1)",
])
def test_bad_webhook_urls(url):
    assert check_webhook_url(url)
