"""Open311 GeoReport v2 endpoints answer as the spec says (real app, real database)."""

from __future__ import annotations

import pytest

from shengxin.appeals.apikeys import create_key, revoke_key
from shengxin.audit.service import Actor
from shengxin.enterprises.uscc import make_code

BASE = "/api/open311/v2"
USCC = make_code("9", "1", "330110", "MA3K7P2Q8")


@pytest.fixture
def api_key(session_factory):
    with session_factory() as s:
        key, _ = create_key(s, "12345-hotline", Actor("test"))
        s.commit()
    return key


@pytest.fixture
def other_key(session_factory):
    with session_factory() as s:
        key, _ = create_key(s, "other-system", Actor("test"))
        s.commit()
    return key


def post(client, key, **fields):
    data = {"api_key": key, "service_code": "utilities.power", "description": "园区上周三次停电，生产线被迫停工，请尽快协调供电。",
            "attribute[enterprise_name]": "杭州丙制造有限公司", "attribute[uscc]": USCC,
            "attribute[town_code]": "330110005", "first_name": "伟", "last_name": "张", "phone": "0571-88888888"}
    data.update(fields)
    return client.post(f"{BASE}/requests.json", data={k: v for k, v in data.items() if v is not None})


def test_services_list_and_definition(client, api_key):
    r = client.get(f"{BASE}/services.json", params={"api_key": api_key})
    assert r.status_code == 200
    services = r.json()
    power = next(s for s in services if s["service_code"] == "utilities.power")
    assert power == {"service_code": "utilities.power", "service_name": "用电", "description": "水电气网 · 用电",
                     "metadata": True, "type": "realtime", "keywords": "要素保障, 用电", "group": "水电气网"}
    assert {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"} <= set(services[0])
    r = client.get(f"{BASE}/services/utilities.power.json", params={"api_key": api_key})
    assert r.status_code == 200
    body = r.json()
    assert body["service_code"] == "utilities.power"
    codes = [a["code"] for a in body["attributes"]]
    assert codes == ["enterprise_name", "uscc", "town_code"]
    town = body["attributes"][2]
    assert town["datatype"] == "singlevaluelist" and {"key": "330110005", "name": "五常街道"} in town["values"]
    assert all({"variable", "code", "datatype", "required", "datatype_description", "order", "description"} <= set(a)
               for a in body["attributes"])


def test_errors_are_a_list_of_code_and_description(client, api_key):
    r = client.get(f"{BASE}/services/nope.json", params={"api_key": api_key})
    assert r.status_code == 404 and r.json()[0]["code"] == 404 and "nope" in r.json()[0]["description"]
    r = client.get(f"{BASE}/services.json")
    assert r.status_code == 403 and r.json()[0]["code"] == 403
    r = client.get(f"{BASE}/services.json", params={"api_key": "sx_wrong"})
    assert r.status_code == 403 and "not valid" in r.json()[0]["description"]
    r = client.get(f"{BASE}/services.json", params={"api_key": api_key, "jurisdiction_id": "110101"})
    assert r.status_code == 404
    r = post(client, api_key, service_code=None)
    assert r.status_code == 400 and "service_code" in r.json()[0]["description"]
    r = post(client, api_key, **{"attribute[uscc]": "91330110MA3K7P2Q80"})
    assert r.status_code == 400 and "uscc" in r.json()[0]["description"]
    r = post(client, api_key, description="")
    assert r.status_code == 400
    r = post(client, api_key, **{"attribute[enterprise_name]": ""})
    assert r.status_code == 400 and "enterprise_name" in r.json()[0]["description"]
    r = post(client, api_key, lat="north")
    assert r.status_code == 400 and "lat" in r.json()[0]["description"]
    r = client.get(f"{BASE}/requests/SQ2099000001.json", params={"api_key": api_key})
    assert r.status_code == 404 and r.json()[0]["code"] == 404


def test_post_then_poll_a_request(client, api_key, other_key):
    r = post(client, api_key, lat="30.28", long="120.03", address_string="五常大道 1 号")
    assert r.status_code == 200, r.text
    created = r.json()
    assert isinstance(created, list) and len(created) == 1
    rid = created[0]["service_request_id"]
    assert rid.startswith("SQ") and "service_notice" in created[0] and "account_id" in created[0]

    r = client.get(f"{BASE}/requests/{rid}.json", params={"api_key": api_key})
    assert r.status_code == 200
    (req,) = r.json()
    assert req["service_request_id"] == rid and req["status"] == "open" and req["service_code"] == "utilities.power"
    assert req["service_name"] == "用电" and req["lat"] == 30.28 and req["address"] == "五常大道 1 号"
    assert req["requested_datetime"].endswith("+08:00") and req["expected_datetime"]
    for field in ("status_notes", "agency_responsible", "service_notice", "updated_datetime", "address_id",
                  "zipcode", "media_url", "description", "long"):
        assert field in req

    listed = client.get(f"{BASE}/requests.json", params={"api_key": api_key}).json()
    assert [x["service_request_id"] for x in listed] == [rid]
    assert client.get(f"{BASE}/requests.json", params={"api_key": api_key, "status": "closed"}).json() == []
    assert len(client.get(f"{BASE}/requests.json", params={"api_key": api_key, "status": "open",
                                                          "service_code": "utilities.power"}).json()) == 1
    assert client.get(f"{BASE}/requests.json", params={"api_key": api_key, "service_request_id": rid}).json()[0][
        "service_request_id"] == rid
    r = client.get(f"{BASE}/requests.json", params={"api_key": api_key, "status": "pending"})
    assert r.status_code == 400
    # Another system's key does not see it.
    assert client.get(f"{BASE}/requests.json", params={"api_key": other_key}).json() == []
    assert client.get(f"{BASE}/requests/{rid}.json", params={"api_key": other_key}).status_code == 404


def test_json_body_and_header_key_are_accepted(client, api_key):
    r = client.post(f"{BASE}/requests.json", headers={"X-Api-Key": api_key},
                    json={"service_code": "tax.invoice", "description": "增值税专用发票领用额度不足，影响正常开票。",
                          "attribute": {"enterprise_name": "杭州丁贸易有限公司"}})
    assert r.status_code == 200, r.text


def test_revoked_key_is_refused(client, session_factory, api_key):
    with session_factory() as s:
        revoke_key(s, "12345-hotline", Actor("test"))
        s.commit()
    r = client.get(f"{BASE}/services.json", params={"api_key": api_key})
    assert r.status_code == 403 and "revoked" in r.json()[0]["description"]


def test_status_follows_the_appeal(client, session_factory, api_key, as_role):
    rid = post(client, api_key).json()[0]["service_request_id"]
    admin = as_role("admin")
    from tests.integration.conftest import csrf_of

    token = csrf_of(admin, "/")
    appeal_id = admin.get("/api/appeals", params={"q": rid}).json()[0]["id"]
    r = admin.post(f"/api/appeals/{appeal_id}/actions/reject", json={"reason": "重复提交"},
                   headers={"X-CSRF-Token": token})
    assert r.status_code == 200, r.text
    (req,) = client.get(f"{BASE}/requests/{rid}.json", params={"api_key": api_key}).json()
    assert req["status"] == "closed" and "重复提交" in req["status_notes"]


def test_date_filters_compare_instants_not_wall_times(client, api_key):
    import datetime as dt

    from shengxin.workdays.calendar import TZ

    rid = post(client, api_key).json()[0]["service_request_id"]
    now_local = dt.datetime.now(TZ).replace(microsecond=0)

    def ids(**params):
        r = client.get(f"{BASE}/requests.json", params={"api_key": api_key, **params})
        assert r.status_code == 200, r.text
        return [x["service_request_id"] for x in r.json()]

    assert ids(start_date=(now_local - dt.timedelta(minutes=30)).isoformat()) == [rid]
    assert ids(start_date=(now_local + dt.timedelta(minutes=30)).isoformat(),
               end_date=(now_local + dt.timedelta(minutes=90)).isoformat()) == []
    assert ids(end_date=(now_local - dt.timedelta(minutes=30)).isoformat()) == []
    assert client.get(f"{BASE}/requests.json", params={"api_key": api_key, "start_date": "soon"}).status_code == 400
