"""Price lists of many clients at once: a background job making a ZIP of PDFs, of the clients the
user who started it may see, downloadable by that user only."""

from __future__ import annotations

import io
import re
import zipfile

import time_machine
from pricing_helpers import NOW

from core.jobs import run_queued
from core.testing import form_fields, logged_in


def start(http, **fields):
    form = form_fields(http.get("/pricing/price-lists").text, action="/pricing/price-lists")
    return http.post("/pricing/price-lists", data={**form, **fields})


def test_a_zip_of_the_price_lists_of_the_clients_the_user_sees(shop):
    with time_machine.travel(NOW, tick=False):
        maria, georgi, peter = (logged_in(shop, u) for u in ("maria", "georgi", "peter"))
        form = form_fields(maria.get("/pricing/price-lists").text, action="/pricing/price-lists")
        assert form["date"] == "2026-11-26" and form["status"] == "active"
        sent = maria.post("/pricing/price-lists", data=form)
        twice = maria.post("/pricing/price-lists", data=form)  # a double click
        assert sent.status_code == 302 and sent.headers["Location"] == twice.headers["Location"]
        job_path = sent.headers["Location"]
        manager = start(georgi).headers["Location"]
        run_queued(shop)

        job = maria.get("/api/v1" + job_path).get_json()
        assert job["status"] == "done" and job["summary"].startswith("1 price lists on 2026-11-26")
        download = maria.get(job["download"])
        assert download.status_code == 200 and download.mimetype == "application/zip"
        with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
            names = archive.namelist()
            assert len(names) == 1 and re.fullmatch(r"bioprom-\d+\.pdf", names[0])
            assert archive.read(names[0]).startswith(b"%PDF")
        # Maria's representative rule held in the worker: Kalina (peter's) is not in her ZIP.
        everyone = georgi.get("/api/v1" + manager).get_json()
        with zipfile.ZipFile(io.BytesIO(georgi.get(everyone["download"]).data)) as archive:
            assert len(archive.namelist()) == 2
        # Her result is hers.
        assert peter.get(job["download"]).status_code == 404
        assert peter.get(job_path).status_code == 404


def test_filters_that_match_nobody_are_refused_on_the_form(shop):
    with time_machine.travel(NOW, tick=False):
        maria = logged_in(shop, "maria")
        answer = start(maria, status="inactive")
        assert answer.status_code == 400
        assert "No client you may see matches these filters." in answer.text
        assert start(maria, date="26.11.2026").status_code == 400
        assert "Give a date as YYYY-MM-DD." in start(maria, date="x").text
