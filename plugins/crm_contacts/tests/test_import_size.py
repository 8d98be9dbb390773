"""An import file may be larger than any other request (a CSV of 100,000 clients is some 70 MB):
the import page has its own limit, ``IMPORT_MAX_BYTES`` (``core.inputs.large_uploads``), refused
on the header like the site-wide ``MAX_CONTENT_LENGTH`` that every other page keeps."""

from __future__ import annotations

import io

from test_import import HEADER, row

from core.testing import logged_in, make_user

MB = 1024 * 1024


def _csv(size: int) -> bytes:
    """A valid file of about ``size`` bytes: clients without VAT numbers, matched by name."""
    rows = [HEADER + "\n"]
    total, n = len(rows[0]), 0
    while total < size:
        line = row(name=f"Client {n:06d}", city="Sofia", invoice_remarks="x" * 200)
        rows.append(line)
        total += len(line)
        n += 1
    return "".join(rows).encode()


def test_the_import_page_takes_a_file_above_the_site_limit_but_not_above_its_own(crm_app_factory):
    app = crm_app_factory(
        ["crm_contacts"], config={"MAX_CONTENT_LENGTH": 1 * MB, "IMPORT_MAX_BYTES": 3 * MB}
    )
    make_user(app, "boss", groups=("sales_manager",))
    http = logged_in(app, "boss")

    def upload(data: bytes):
        return http.post(
            "/contacts/import",
            data={"action": "preview", "key": "vat_number", "file": (io.BytesIO(data), "c.csv")},
            content_type="multipart/form-data",
        )

    accepted = upload(_csv(2 * MB))
    assert accepted.status_code == 302 and accepted.headers["Location"].startswith("/jobs/")
    refused = upload(_csv(4 * MB))
    assert refused.status_code == 413
    assert "larger than the 3 MB this site accepts" in refused.get_data(as_text=True)
    # Every other page keeps the site-wide limit.
    other = http.post("/contacts/clients/new", data={"name": "x" * (2 * MB)})
    assert other.status_code == 413
    assert "larger than the 1 MB" in other.get_data(as_text=True)
    # The test client spools large bodies to temporary files and leaves them open.
    for response in (accepted, refused, other):
        response.request.environ["wsgi.input"].close()
