"""The JSON API /api/v1/contracts: list with filters and paging, create (numbered), read, change
with the version read, terminate, renew, and the conditions."""

from __future__ import annotations

from datetime import date

from core.testing import logged_in

TODAY = date(2026, 12, 1)


def _create(client, client_id: int, **fields) -> dict:
    answer = client.post(
        "/api/v1/contracts",
        json={"client_id": client_id, "title": "Supply", "signed_on": "2026-12-01",
              "valid_from": "2026-12-01", "valid_to": "2027-11-30", **fields},
    )  # fmt: skip
    assert answer.status_code == 201, answer.get_json()
    return answer


def test_create_read_change_and_list(app):
    georgi = logged_in(app, "georgi")
    answer = _create(georgi, app.ids.bioprom, value="12000.5", currency="BGN", type_id=2)
    body = answer.get_json()
    assert answer.headers["Location"].endswith(f"/api/v1/contracts/{body['id']}")
    assert body["number"] == "C-2026-0001" and body["status"] == "active"
    assert body["value"] == "12000.50" and body["type_name"] == "Supply"
    assert body["client_name"] == "Bioprom" and body["conditions"] == []
    assert body["version"] == 1

    url = f"/api/v1/contracts/{body['id']}"
    assert georgi.patch(url, json={"title": "Changed"}).status_code == 409  # no version
    changed = georgi.patch(url, json={"title": "Changed", "version": 1})
    assert changed.status_code == 200 and changed.get_json()["title"] == "Changed"
    assert changed.get_json()["version"] == 2
    stale = georgi.patch(url, json={"title": "Lost", "version": 1})
    assert stale.status_code == 409 and stale.get_json()["current"]["title"] == "Changed"
    moved = georgi.patch(url, json={"client_id": app.ids.agrotech, "version": 2})
    assert moved.status_code == 400 and "client_id" in moved.get_json()["errors"]

    _create(georgi, app.ids.agrotech, signed_on=None)
    listed = georgi.get("/api/v1/contracts?status=draft").get_json()
    assert [c["client_name"] for c in listed["items"]] == ["Agrotech"]
    assert listed["meta"]["total"] == 1
    listed = georgi.get(f"/api/v1/contracts?client_id={app.ids.bioprom}&per_page=1").get_json()
    assert listed["meta"] == {"page": 1, "per_page": 1, "total": 1, "pages": 1}
    assert georgi.get("/api/v1/contracts?status=nonsense").status_code == 400
    assert georgi.get("/api/v1/contracts?client_id=x").status_code == 400
    within = georgi.get("/api/v1/contracts?expiring_within=400").get_json()
    assert within["meta"]["total"] == 1


def test_terminate_and_renew_through_the_api(app):
    georgi = logged_in(app, "georgi")
    contract = _create(georgi, app.ids.bioprom).get_json()
    url = f"/api/v1/contracts/{contract['id']}"
    renewed = georgi.post(
        f"{url}/renew", json={"valid_from": "2027-12-01", "valid_to": "2028-11-30", "version": 1}
    )
    assert renewed.status_code == 201, renewed.get_json()
    successor = renewed.get_json()
    assert successor["predecessor_id"] == contract["id"] and successor["status"] == "draft"
    again = georgi.get(url).get_json()
    assert again["successor_id"] == successor["id"] and again["status"] == "renewed"

    other = _create(georgi, app.ids.agrotech).get_json()
    too_early = georgi.post(
        f"/api/v1/contracts/{other['id']}/terminate",
        json={"terminated_on": "2026-01-01", "termination_reason": "x", "version": 1},
    )
    assert too_early.status_code == 400 and "terminated_on" in too_early.get_json()["errors"]
    no_reason = georgi.post(
        f"/api/v1/contracts/{other['id']}/terminate",
        json={"terminated_on": "2026-12-01", "version": 1},
    )
    assert "termination_reason" in no_reason.get_json()["errors"]
    done = georgi.post(
        f"/api/v1/contracts/{other['id']}/terminate",
        json={"terminated_on": "2026-12-01", "termination_reason": "Closed", "version": 1},
    )
    assert done.status_code == 200 and done.get_json()["status"] == "terminated"


def test_conditions_through_the_api(app):
    georgi = logged_in(app, "georgi")
    contract = _create(georgi, app.ids.bioprom).get_json()
    url = f"/api/v1/contracts/{contract['id']}/conditions"
    made = georgi.post(url, json={"kind": "discount", "group_code": "DAIRY",
                                  "discount_percent": 5})  # fmt: skip
    assert made.status_code == 201
    condition = made.get_json()
    assert condition["discount_percent"] == "5.00" and condition["product_code"] == ""
    replaced = georgi.put(
        f"{url}/{condition['id']}",
        json={"kind": "price", "product_code": "MLK-1L", "price": "0.985", "version": 1},
    )
    assert replaced.status_code == 200
    assert replaced.get_json()["group_code"] == "" and replaced.get_json()["price"] == "0.9850"
    assert [c["kind"] for c in georgi.get(url).get_json()["items"]] == ["price"]
    assert georgi.delete(f"{url}/{condition['id']}").status_code == 204
    assert georgi.get(url).get_json()["items"] == []
    assert georgi.delete(f"{url}/{condition['id']}").status_code == 404


def test_a_representative_reads_but_does_not_write(app):
    georgi = logged_in(app, "georgi")
    contract = _create(georgi, app.ids.bioprom).get_json()
    maria = logged_in(app, "maria")
    assert maria.get(f"/api/v1/contracts/{contract['id']}").status_code == 200
    assert maria.post("/api/v1/contracts", json={}).status_code == 403
    # A client the user does not see cannot get a contract.
    peter_client = georgi.post(
        "/api/v1/contracts",
        json={"client_id": 999, "title": "T", "valid_from": "2027-01-01"},
    )
    assert "client_id" in peter_client.get_json()["errors"]


def test_the_api_is_in_the_openapi_document(app):
    spec = logged_in(app, "georgi").get("/api/v1/openapi.json").get_json()
    assert "/api/v1/contracts" in spec["paths"]
    assert "/api/v1/contracts/{contract_id}/terminate" in spec["paths"]


def test_signed_documents_through_the_api(app):
    import io

    georgi = logged_in(app, "georgi")
    contract = _create(georgi, app.ids.bioprom).get_json()
    url = f"/api/v1/contracts/{contract['id']}/attachments"
    assert georgi.post(url, data={}, content_type="multipart/form-data").status_code == 400
    empty = georgi.post(
        url, data={"file": (io.BytesIO(b""), "a.pdf")}, content_type="multipart/form-data"
    )
    assert empty.status_code == 400 and "file" in empty.get_json()["errors"]
    made = georgi.post(
        url, data={"file": (io.BytesIO(b"%PDF-1.7"), "signed.pdf")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert made.status_code == 201
    items = georgi.get(url).get_json()["items"]
    assert [(a["name"], a["size"]) for a in items] == [("signed.pdf", 8)]
    assert georgi.get(items[0]["download_url"]).data == b"%PDF-1.7"
    peter = logged_in(app, "peter")
    assert peter.get(url).status_code == 404
