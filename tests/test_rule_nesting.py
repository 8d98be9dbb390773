"""Record rules whose conditions name other restricted models (a contract is seen through its
client, a condition through its contract) stay flat: the rules are not applied inside a rule, so
a representative's statements do not grow into subqueries of subqueries (a rule on clients naming
contracts once made a picker send SQLite a statement of 3,000 parameters)."""

from __future__ import annotations

from core.testing import logged_in, make_user, statements_run

BUNDLED = ["crm_contacts", "crm_tasks", "crm_contracts", "crm_sales", "crm_pricing"]


def test_a_representatives_statements_do_not_nest_rules_within_rules(crm_app_factory):
    app = crm_app_factory(BUNDLED)
    make_user(app, "maria", groups=("sales_rep",))
    maria = logged_in(app, "maria")
    created = maria.post("/api/v1/clients", json={"name": "Bioprom"})
    assert created.status_code == 201, created.get_json()
    client_id = created.get_json()["id"]
    pages = (
        "/contacts/clients",
        f"/contacts/clients/{client_id}",
        "/api/v1/lookup/crm_contacts_client?q=bio",
        "/contracts/",
        "/tasks/",
        "/search?q=bio",
    )
    with statements_run(app) as statements:
        for url in pages:
            assert maria.get(url).status_code == 200, url
    deepest = max(statements, key=lambda s: s.count("SELECT"))
    # A page's own subqueries and one level of each rule's (the pricing section unites three
    # lookups, each with the rules' subqueries: 18 SELECTs): bounded, where rules within rules
    # made thousands of parameters.
    assert deepest.count("SELECT") <= 24, deepest
    assert max(s.count("?") for s in statements) <= 120
