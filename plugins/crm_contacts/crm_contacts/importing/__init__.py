"""CSV import and export of clients with their contact persons, shared by the import page and
``crm contacts import/export``.

The format
----------
UTF-8 (with or without a byte-order mark), comma-separated, one header row. Columns, in any order;
only ``name`` is required, and a column left out of the file leaves that field of existing clients
as it is:

``name``, ``kind`` (company / individual), ``legal_name``, ``registration_number``, ``vat_number``,
``country`` (two letters, BG by default), ``customer_group`` (its name), ``region`` (its name),
``responsible`` (a user's login), ``status`` (prospect / active / inactive), ``tags`` (separated by
``;``), ``website``, ``payment_term_days``, ``invoice_remarks``, ``goods_description``,
``document_language``, ``street``, ``city``, ``postal_code`` (the head office address), ``phone``,
``email`` (the client's own; several separated by ``;``), ``iban``, ``bic``, ``bank_name`` (the
client's default bank account), and the contact person of the row: ``person_name``,
``person_position``, ``person_phone``, ``person_email``.

Rows with the same key are one client with several contact persons: the key is the VAT number
(rows without one: the name), or the name alone with ``key="name"``. The client's own cells of such
rows must agree (or be left empty on all but the first). Row numbers are a spreadsheet's: the
header is row 1.

What an import does
-------------------
Every row is validated with ``ClientSchema`` (VAT and phone numbers per the client's country, email
addresses, IBAN and BIC...). An error names the row and the column (``row 7, vat_number: Not a
valid VAT number for BG.``, ``row 9, iban: Not a valid IBAN...``) and, while any row has one,
nothing is written. A client whose key matches an existing client is updated (fields of the file's
columns; phones, emails and persons not there yet are added, none is removed; an IBAN becomes the
client's default bank account: the account with that IBAN if the client has one, else the default
account takes the new IBAN, else one is added), else created. An empty ``iban`` cell leaves the
client's accounts as they are, and a ``bic`` or ``bank_name`` needs an ``iban`` beside it. Names
of new clients that look like another client's (``token_sort_ratio`` >= 90, rapidfuzz) are reported
as warnings. Importing the same file twice changes nothing the second time, and an export imports
back as a no-op.

New clients are inserted in bulk (``core.bulk``: the driver's ``executemany``, PostgreSQL's
``COPY``), which is what makes 100,000 clients fit in 40 s; bulk inserts bypass the audit trail,
so an imported client's history starts at the import. Updates of existing clients go through
the ORM and are audited.

The code
--------
``reading`` (the file's text and rows, read as a stream; the columns), ``first_pass`` (the key of
every row), ``running`` (``run_import``: the second pass, a chunk of clients at a time matched,
validated, compared and written; ``plan_import``, the whole plan of a small file kept for
``apply_import``), with ``planning`` (rows merged into clients, clients matched), ``validating``
(``ClientSchema``), ``parallel`` (validation in processes beside), ``comparing``, ``duplicates``
and ``writing``; ``plan`` holds what these steps hand each other; ``exporting`` (``export_csv``).
What the import page, ``crm contacts import``, the bench and the tests use is re-exported here.
"""

from crm_contacts.importing.duplicates import SIMILARITY
from crm_contacts.importing.exporting import export_csv
from crm_contacts.importing.plan import BATCH, ImportPlan, PreviewRow, Progress, RowWarning
from crm_contacts.importing.planning import KEYS, PREVIEW_ROWS
from crm_contacts.importing.reading import (
    ADDRESS_COLUMNS,
    BANK_COLUMNS,
    CLIENT_COLUMNS,
    COLUMNS,
    MULTI_SEPARATOR,
    NOT_CLEARABLE,
    PERSON_COLUMNS,
    SCALAR_FIELDS,
    RowError,
    count_rows,
    decode,
)
from crm_contacts.importing.running import CHUNK, plan_import, run_import
from crm_contacts.importing.writing import ImportResult, apply_import

__all__ = [
    "ADDRESS_COLUMNS",
    "BANK_COLUMNS",
    "BATCH",
    "CHUNK",
    "CLIENT_COLUMNS",
    "COLUMNS",
    "KEYS",
    "MULTI_SEPARATOR",
    "NOT_CLEARABLE",
    "PERSON_COLUMNS",
    "PREVIEW_ROWS",
    "SCALAR_FIELDS",
    "SIMILARITY",
    "ImportPlan",
    "ImportResult",
    "PreviewRow",
    "Progress",
    "RowError",
    "RowWarning",
    "apply_import",
    "count_rows",
    "decode",
    "export_csv",
    "plan_import",
    "run_import",
]
