from core.testing import logged_in

def test_smoke(app):
    c = logged_in(app, "georgi", "demo")
    r = c.get("/api/v1/reports")
    print([i["id"] for i in r.json["items"]])
    for item in r.json["items"]:
        rr = c.post("/api/v1/reports/run", json=item["spec"])
        print(item["id"], rr.status_code, rr.json.get("errors") if rr.status_code != 200 else (len(rr.json["rows"]), [c["label"] for c in rr.json["columns"]][:6], rr.json["rows"][:1]))
        page = c.get(f"/reports/builder?ready={item['id']}")
        assert page.status_code == 200, page.data[-2000:]
        x = c.get(f"/api/v1/reports/{item['id']}/export?format=xlsx")
        assert x.status_code == 200
    print(c.get("/reports/").status_code)
