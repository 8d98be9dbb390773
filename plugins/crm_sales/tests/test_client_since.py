"""The client file's "Client since" is the first sale, not the day the client was entered in the
CRM (issue 13, point 6): crm_sales answers crm_contacts' ``crm_client_since``."""

from __future__ import annotations

import re
from datetime import date

from core.db import db_session
from core.testing import logged_in, make_user
from crm_contacts.models import Client


def _since(page: str) -> str:
    found = re.search(r'data-testid="client-since">([^<]*)<', page)
    assert found, "no Client since on the client file"
    return found.group(1)


def test_client_since_is_the_first_sale_else_the_day_entered(book):
    make_user(book, "georgi", groups=("sales_manager", "admin"))
    http = logged_in(book, "georgi")
    # Acme's earliest document (the credit note comes later) is invoice I-1 of 2025-01-15.
    acme = http.get(f"/contacts/clients/{book.ids['acme']}").get_data(as_text=True)
    assert _since(acme) == "2025-01-15"

    created = http.post("/contacts/clients/new", data={"name": "Newcomer", "status": "prospect"})
    assert created.status_code == 302
    new_id = int(created.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    response = http.get(f"/contacts/clients/{new_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert _since(page) == date.today().isoformat()  # no sale yet: the day it was entered


def test_a_representative_sees_the_first_sale_of_her_client_and_no_other_clients_file(book):
    """The first sale is read for a client the file has shown the user may see: a representative
    gets her client's, and the file of a client of someone else's stays closed."""
    rita = make_user(book, "rita", groups=("sales_rep",))
    with book.app_context():
        db_session.get(Client, book.ids["acme"]).responsible_id = rita
        db_session.commit()
    http = logged_in(book, "rita")
    acme = http.get(f"/contacts/clients/{book.ids['acme']}")
    assert acme.status_code == 200
    assert _since(acme.get_data(as_text=True)) == "2025-01-15"
    assert http.get(f"/contacts/clients/{book.ids['bolt']}").status_code == 404
