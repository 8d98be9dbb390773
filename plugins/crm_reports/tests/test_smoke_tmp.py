import time
from core.testing import logged_in

def test_smoke(app):
    c = logged_in(app, "georgi", "demo")
    spec = {"model": "crm_sales_line",
            "group_by": [{"field": "client.customer_group.name"}, {"field": "date", "bucket": "quarter"}],
            "measures": [{"field": "net_amount", "agg": "sum"}, {"field": "id", "agg": "count"}],
            "pivot": "date", "chart": {"type": "bar"}}
    r = c.post("/api/v1/reports/run", json=spec)
    print(r.status_code, r.json if r.status_code != 200 else (r.json["columns"][:4], r.json["rows"][:3], r.json["totals"]))
    assert r.status_code == 200
    r = c.get("/api/v1/reports")
    print([i["id"] for i in r.json["items"]])
    for item in r.json["items"]:
        rr = c.post("/api/v1/reports/run", json=item["spec"])
        print(item["id"], rr.status_code, rr.json.get("errors") if rr.status_code != 200 else len(rr.json["rows"]))
