from __future__ import annotations

import base64

import httpx
import pytest

from ams_billing.emulators.xero import (
    GRANULAR_SCOPES,
    EmulatorClock,
    EmulatorConfig,
    XeroEmulator,
)

API = "/api.xro/2.0"


def token_request(emu: XeroEmulator, client: httpx.Client, **form: str) -> httpx.Response:
    return client.post("/connect/token", data={"grant_type": "client_credentials", **form})


@pytest.fixture
def raw(emu: XeroEmulator):
    with httpx.Client(transport=emu.transport(), base_url="https://emulator.invalid") as client:
        yield client


def basic(emu: XeroEmulator, secret: str | None = None) -> dict[str, str]:
    pair = f"{emu.config.client_id}:{secret or emu.config.client_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def test_token_with_basic_auth(emu, raw):
    response = raw.post(
        "/connect/token", data={"grant_type": "client_credentials"}, headers=basic(emu)
    )
    assert response.status_code == 200
    body = response.json()
    assert body["expires_in"] == 1800
    assert body["token_type"] == "Bearer"
    assert "refresh_token" not in body
    assert "id_token" not in body
    assert set(body["scope"].split()) == set(emu.config.scopes)


def test_token_with_form_credentials(emu, raw):
    response = token_request(
        emu, raw, client_id=emu.config.client_id, client_secret=emu.config.client_secret
    )
    assert response.status_code == 200
    assert response.json()["access_token"]


@pytest.mark.parametrize(
    ("form", "headers", "error"),
    [
        ({"client_id": "nope", "client_secret": "x"}, {}, "invalid_client"),
        ({}, {}, "invalid_client"),
        ({"grant_type": "authorization_code"}, None, "unsupported_grant_type"),
        ({"grant_type": ""}, None, "unsupported_grant_type"),
        ({"scope": "accounting.contacts payroll.employees"}, None, "invalid_scope"),
    ],
)
def test_token_errors(emu, raw, form, headers, error):
    data = {"grant_type": "client_credentials", **form}
    response = raw.post(
        "/connect/token", data=data, headers=basic(emu) if headers is None else headers
    )
    assert response.status_code == 400
    assert response.json() == {"error": error}


def test_wrong_secret_is_invalid_client(emu, raw):
    response = raw.post(
        "/connect/token", data={"grant_type": "client_credentials"}, headers=basic(emu, "bad")
    )
    assert response.json() == {"error": "invalid_client"}


def test_scope_subset_is_granted_and_enforced(emu, raw):
    response = token_request(emu, raw, scope="accounting.contacts", **_form(emu))
    assert response.json()["scope"] == "accounting.contacts"
    headers = {
        "Authorization": f"Bearer {response.json()['access_token']}",
        "Accept": "application/json",
    }
    assert raw.get(f"{API}/Contacts", headers=headers).status_code == 200
    refused = raw.get(f"{API}/Invoices", headers=headers)
    assert refused.status_code == 401
    assert refused.json()["Detail"] == "AuthorizationUnsuccessful"
    assert refused.json()["Title"] == "Unauthorized"


def _form(emu: XeroEmulator) -> dict[str, str]:
    return {"client_id": emu.config.client_id, "client_secret": emu.config.client_secret}


def test_settings_need_settings_scope(raw):
    emu = XeroEmulator(EmulatorConfig(scopes=("accounting.contacts", "accounting.transactions")))
    with httpx.Client(transport=emu.transport(), base_url="https://e.invalid") as client:
        token = token_request(emu, client, **_form(emu)).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        assert client.get(f"{API}/Organisation", headers=headers).status_code == 401
        assert client.get(f"{API}/Invoices", headers=headers).status_code == 200


def test_granular_connection_refuses_broad_scope_request():
    emu = XeroEmulator(EmulatorConfig(scopes=GRANULAR_SCOPES))
    with httpx.Client(transport=emu.transport(), base_url="https://e.invalid") as client:
        broad = token_request(emu, client, scope="accounting.transactions", **_form(emu))
        assert broad.json() == {"error": "invalid_scope"}
        token = token_request(
            emu, client, scope="accounting.contacts accounting.invoices", **_form(emu)
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        assert client.get(f"{API}/Invoices", headers=headers).status_code == 200
        # accounting.invoices does not cover Payments
        assert client.get(f"{API}/Payments", headers=headers).status_code == 401


def test_read_only_scope_cannot_write():
    emu = XeroEmulator(EmulatorConfig(scopes=("accounting.contacts.read",)))
    token = emu.issue_token()
    with httpx.Client(
        transport=emu.transport(),
        base_url="https://e.invalid",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    ) as client:
        assert client.get(f"{API}/Contacts").status_code == 200
        response = client.put(f"{API}/Contacts", json={"Name": "X"})
        assert response.status_code == 401
        assert response.json()["Detail"] == "AuthorizationUnsuccessful"


def test_missing_and_unknown_tokens(raw):
    for headers in ({}, {"Authorization": "Bearer forged"}):
        response = raw.get(f"{API}/Contacts", headers={"Accept": "application/json", **headers})
        assert response.status_code == 401
        assert response.json()["Detail"] == "AuthenticationUnsuccessful"


def test_token_expires_after_30_minutes(emu, api):
    assert api.get(f"{API}/Contacts").status_code == 200
    emu.clock.advance(1799)
    assert api.get(f"{API}/Contacts").status_code == 200
    emu.clock.advance(1)
    response = api.get(f"{API}/Contacts")
    assert response.status_code == 401
    body = response.json()
    assert body["Type"] is None
    assert body["Status"] == 401
    assert body["Detail"] == "TokenExpired: token expired at 01/15/2026 09:30:00"
    assert body["Extensions"] == {}
    assert body["Instance"] == response.headers["Xero-Correlation-Id"]


def test_wrong_tenant_is_403_and_absent_tenant_is_fine(emu, api):
    response = api.get(
        f"{API}/Contacts", headers={"xero-tenant-id": "00000000-0000-0000-0000-000000000000"}
    )
    assert response.status_code == 403
    assert response.json()["Detail"] == "AuthenticationUnsuccessful"
    assert response.json()["Title"] == "Forbidden"
    del api.headers["xero-tenant-id"]
    assert api.get(f"{API}/Contacts").status_code == 200


def test_connections(emu, raw):
    token = token_request(emu, raw, **_form(emu)).json()["access_token"]
    response = raw.get("/connections", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    [connection] = response.json()
    assert connection["tenantId"] == emu.config.tenant_id
    assert connection["tenantType"] == "ORGANISATION"
    assert "X-AppMinLimit-Remaining" in response.headers
    assert "X-MinLimit-Remaining" not in response.headers
    assert "X-DayLimit-Remaining" not in response.headers
    assert raw.get("/connections").status_code == 401


def test_token_endpoint_is_not_rate_limited(emu, raw):
    for _ in range(70):
        assert token_request(emu, raw, **_form(emu)).status_code == 200


def test_secrets_not_in_reprs(emu):
    text = repr(emu.config) + repr(emu)
    assert emu.config.client_secret not in text
    assert emu.config.webhook_key not in text


def test_same_seed_same_ids():
    ids = []
    for _ in range(2):
        emu = XeroEmulator(EmulatorConfig(seed=7), clock=EmulatorClock.virtual())
        with httpx.Client(
            transport=emu.transport(),
            base_url="https://e.invalid",
            headers={"Authorization": f"Bearer {emu.issue_token()}", "Accept": "application/json"},
        ) as client:
            ids.append(
                client.put(f"{API}/Contacts", json={"Name": "A"}).json()["Contacts"][0]["ContactID"]
            )
    assert ids[0] == ids[1]
