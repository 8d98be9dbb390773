from core.testing import logged_in, make_user


def test_install_uninstall_cycle_through_the_web(crm_app_factory):
    app = crm_app_factory(["crm_contacts"])
    make_user(app, "root", groups=("admin",))
    client = logged_in(app, "root")
    assert client.get("/contacts/clients").status_code == 200
    page = client.get("/apps/crm_contacts/uninstall")
    assert b"crm_contacts_client" in page.data
    response = client.post("/apps/crm_contacts/uninstall", data={"confirm": "crm_contacts"})
    assert response.status_code == 302
    assert client.get("/contacts/clients").status_code == 404
    client.post("/apps/crm_contacts/install")
    assert client.get("/contacts/clients").status_code == 200
