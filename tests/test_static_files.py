"""Static files are served without a database query, with URLs that carry the file's version and
the cache headers that go with them."""

from __future__ import annotations

import re

import pytest

from core.testing import logged_in, make_user, statements_run


@pytest.fixture
def app(crm_app_factory):
    app = crm_app_factory(["crm_tasks"])
    make_user(app, "maria", groups=("sales_rep",))
    return app


def _static_urls(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/(?:tasks/)?static/[^"]+)"', page)


@pytest.mark.parametrize("path", ["/static/crm.css", "/tasks/static/board.js"])
def test_a_static_file_costs_no_sql_statement_anonymous_or_logged_in(app, path):
    anonymous = app.test_client()
    maria = logged_in(app, "maria")
    for client in (anonymous, maria):
        with statements_run(app) as statements:
            response = client.get(path)
            assert response.status_code == 200
            response.close()
        assert statements == []
        with statements_run(app) as statements:
            again = client.get(path, headers={"If-None-Match": response.headers["ETag"]})
            assert again.status_code == 304
            again.close()
        assert statements == []


def test_pages_link_versioned_files_that_browsers_keep_a_year(app):
    maria = logged_in(app, "maria")
    urls = _static_urls(maria.get("/tasks/board").get_data(as_text=True))
    assert "/tasks/static/board.js" in {u.partition("?")[0] for u in urls}
    assert len(urls) >= 5 and all(re.search(r"\?v=[0-9a-f]{12}$", url) for url in urls)
    for url in urls:
        response = maria.get(url)
        assert response.status_code == 200
        cache = response.headers["Cache-Control"]
        assert "max-age=31536000" in cache and "immutable" in cache and "public" in cache
        assert response.headers["ETag"] and response.headers["Last-Modified"]
        response.close()


@pytest.mark.parametrize("query", ["", "?v=000000000000"])
def test_an_unversioned_or_outdated_url_is_revalidated(app, query):
    """A URL without the current version (a bookmark, a page cached before a release) is answered
    with the current file, and the browser must ask again before using it: it gets a 304 while
    the file is unchanged."""
    client = app.test_client()
    response = client.get("/static/crm.css" + query)
    assert response.status_code == 200
    assert "no-cache" in response.headers["Cache-Control"]
    assert "max-age=31536000" not in response.headers["Cache-Control"]
    since = client.get(
        "/static/crm.css" + query, headers={"If-Modified-Since": response.headers["Last-Modified"]}
    )
    assert since.status_code == 304
    since.close()
    response.close()


def test_a_missing_file_is_404_without_a_statement(app):
    client = app.test_client()
    with statements_run(app) as statements:
        assert client.get("/static/no-such-file.css").status_code == 404
        assert client.get("/static/../core/app.py").status_code == 404
    assert statements == []


def test_static_files_of_a_module_not_installed_are_served(crm_app_factory):
    """Knowing whether a module is installed costs a query: its files (scripts, styles, no data)
    are served whatever its state, its pages stay 404."""
    app = crm_app_factory([])
    client = app.test_client()
    with statements_run(app) as statements:
        response = client.get("/tasks/static/board.js")
        assert response.status_code == 200
        response.close()
    assert statements == []
    assert client.get("/tasks/").status_code == 404
