from __future__ import annotations

import pytest
from emulator_helpers import API, messages

NAME_TAKEN = (
    "The contact name Ada Lovelace is already assigned to another contact. "
    "The contact name must be unique across all active contacts."
)


def test_put_creates_and_get_by_id_and_number(api, make_contact):
    created = make_contact(Name="Ada Lovelace", ContactNumber="M-1", EmailAddress="ada@example.org")
    assert created["ContactStatus"] == "ACTIVE"
    by_id = api.get(f"{API}/Contacts/{created['ContactID']}").json()["Contacts"][0]
    by_number = api.get(f"{API}/Contacts/M-1").json()["Contacts"][0]
    assert by_id["ContactID"] == by_number["ContactID"] == created["ContactID"]
    missing = api.get(f"{API}/Contacts/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert missing.text == "The resource you're looking for cannot be found"


def test_duplicate_name_is_refused_with_xeros_message(api, make_contact):
    make_contact(Name="Ada Lovelace")
    response = api.put(f"{API}/Contacts", json={"Contacts": [{"Name": "ada lovelace"}]})
    assert response.status_code == 400
    body = response.json()
    assert body["ErrorNumber"] == 10
    assert body["Type"] == "ValidationException"
    assert messages(body) == [NAME_TAKEN.replace("Ada Lovelace", "ada lovelace")]
    posted = api.post(f"{API}/Contacts", json={"Name": "Ada Lovelace"})
    assert messages(posted.json()) == [NAME_TAKEN]


def test_archived_name_can_be_reused_but_number_cannot(api, make_contact):
    old = make_contact(Name="Ada Lovelace", ContactNumber="M-1")
    archive = api.post(f"{API}/Contacts/{old['ContactID']}", json={"ContactStatus": "ARCHIVED"})
    assert archive.json()["Contacts"][0]["ContactStatus"] == "ARCHIVED"
    assert api.put(f"{API}/Contacts", json={"Name": "Ada Lovelace"}).status_code == 200
    response = api.put(f"{API}/Contacts", json={"Name": "Other", "ContactNumber": "M-1"})
    assert messages(response.json()) == [
        "The contact number M-1 is already assigned to another contact. "
        "The contact number must be unique across all contacts."
    ]


def test_unarchiving_into_a_name_clash_is_refused(api, make_contact):
    old = make_contact(Name="Ada Lovelace")
    api.post(f"{API}/Contacts/{old['ContactID']}", json={"ContactStatus": "ARCHIVED"})
    make_contact(Name="Ada Lovelace")
    response = api.post(f"{API}/Contacts/{old['ContactID']}", json={"ContactStatus": "ACTIVE"})
    assert response.status_code == 400
    assert messages(response.json()) == [NAME_TAKEN]


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "jürgen@example.de", "a b@example.org"])
def test_invalid_email(api, email):
    response = api.put(f"{API}/Contacts", json={"Name": "X", "EmailAddress": email})
    assert response.status_code == 400
    assert messages(response.json()) == ["Email address must be valid."]


def test_post_updates_only_given_fields(api, make_contact):
    created = make_contact(Name="Ada", EmailAddress="ada@example.org", AccountNumber="A1")
    response = api.post(
        f"{API}/Contacts",
        json={"Contacts": [{"ContactID": created["ContactID"], "FirstName": "Ada"}]},
    )
    updated = response.json()["Contacts"][0]
    assert updated["EmailAddress"] == "ada@example.org"
    assert updated["AccountNumber"] == "A1"
    assert updated["FirstName"] == "Ada"


def test_put_does_not_update(api, make_contact):
    created = make_contact(Name="Ada")
    response = api.put(f"{API}/Contacts", json={"ContactID": created["ContactID"], "Name": "Ada 2"})
    assert response.status_code == 400


def test_batch_summarize_errors_creates_valid_elements(emu, api):
    batch = {"Contacts": [{"Name": "Good"}, {"Name": "Bad", "EmailAddress": "nope"}]}
    response = api.put(f"{API}/Contacts", json=batch)
    assert response.status_code == 400
    elements = response.json()["Elements"]
    assert [e["Name"] for e in elements] == ["Bad"]
    assert elements[0]["HasValidationErrors"] is True
    assert [c["Name"] for c in emu.books().contacts] == ["Good"]


def test_batch_without_summarize_errors(api):
    batch = {"Contacts": [{"Name": "Good"}, {"Name": "Bad", "EmailAddress": "nope"}]}
    response = api.put(f"{API}/Contacts", params={"summarizeErrors": "false"}, json=batch)
    assert response.status_code == 200
    good, bad = response.json()["Contacts"]
    assert good["StatusAttributeString"] == "OK"
    assert good["ContactID"]
    assert bad["StatusAttributeString"] == "ERROR"
    assert bad["ValidationErrors"] == [{"Message": "Email address must be valid."}]


@pytest.mark.parametrize(
    "where",
    [
        'Name=="ada lovelace"',
        'Name="Ada Lovelace"',
        'EmailAddress=="ADA@example.org"',
        'AccountNumber=="acc-1"',
        'ContactNumber=="M-1"',
        'Name=="Ada Lovelace" AND ContactStatus=="ACTIVE"',
    ],
)
def test_where_equality_is_case_insensitive(api, make_contact, where):
    target = make_contact(
        Name="Ada Lovelace",
        EmailAddress="ada@example.org",
        AccountNumber="ACC-1",
        ContactNumber="M-1",
    )
    make_contact(Name="Grace Hopper", EmailAddress="grace@example.org")
    found = api.get(f"{API}/Contacts", params={"where": where}).json()["Contacts"]
    assert [c["ContactID"] for c in found] == [target["ContactID"]]


def test_bad_where_is_400(api):
    response = api.get(f"{API}/Contacts", params={"where": "Name ~~ 3"})
    assert response.status_code == 400


def test_search_term_ids_archived_and_paging(emu, api, make_contact):
    made = [
        make_contact(Name=f"Person {i:02d}", EmailAddress=f"p{i}@example.org") for i in range(5)
    ]
    api.post(f"{API}/Contacts/{made[0]['ContactID']}", json={"ContactStatus": "ARCHIVED"})
    assert len(api.get(f"{API}/Contacts").json()["Contacts"]) == 4
    assert (
        len(api.get(f"{API}/Contacts", params={"includeArchived": "true"}).json()["Contacts"]) == 5
    )
    search = api.get(f"{API}/Contacts", params={"searchTerm": "P3@EXAMPLE"}).json()["Contacts"]
    assert [c["Name"] for c in search] == ["Person 03"]
    ids = ",".join(c["ContactID"] for c in made[1:3])
    assert len(api.get(f"{API}/Contacts", params={"IDs": ids}).json()["Contacts"]) == 2
    page = api.get(f"{API}/Contacts", params={"page": 2, "pageSize": 3}).json()
    assert page["pagination"] == {"page": 2, "pageSize": 3, "pageCount": 2, "itemCount": 4}
    assert len(page["Contacts"]) == 1


def test_if_modified_since(emu, api, make_contact):
    make_contact(Name="Old")
    emu.clock.advance(60)
    since = emu.clock.now().strftime("%Y-%m-%dT%H:%M:%S")
    emu.clock.advance(1)
    make_contact(Name="New")
    found = api.get(f"{API}/Contacts", headers={"If-Modified-Since": since}).json()["Contacts"]
    assert [c["Name"] for c in found] == ["New"]


def test_name_required_and_account_number_unique(api, make_contact):
    assert api.put(f"{API}/Contacts", json={"EmailAddress": "a@example.org"}).status_code == 400
    make_contact(AccountNumber="uuid-1")
    response = api.put(f"{API}/Contacts", json={"Name": "Other", "AccountNumber": "uuid-1"})
    assert response.status_code == 400
