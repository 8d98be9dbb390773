"""Static files: served without touching the database, cached by browsers for as long as they are
the same file.

Every ``url_for('static', ...)`` and ``url_for('<blueprint>.static', ...)`` carries ``?v=`` with a
short hash of the file's content. A request whose ``v`` is the current file's hash is answered with
``Cache-Control: public, max-age=31536000, immutable``: a browser keeps it a year without asking
again, and a new release changes the hash, hence the URL. A request without ``v`` or with an older
one (a bookmark, a page cached before the release) gets the file with ``no-cache``, an ``ETag`` and
``Last-Modified``, so the browser asks again and gets a bodiless 304 while the file is unchanged.

The request gate lets static endpoints through before it reads the registry signal or loads the
user (``is_static_endpoint``): static files are served to everybody, and those of every available
module, installed in this database or not. They hold no data, and not knowing whether a module is
installed is what spares them a query.
"""

from __future__ import annotations

import hashlib
import os
import threading

from flask import Flask, Response, current_app, request

#: A year: what browsers accept as "for ever". The URL changes with the file.
VERSIONED_MAX_AGE = 365 * 24 * 3600
VERSION_PARAMETER = "v"

_versions: dict[str, tuple[int, int, str]] = {}
# realpath() stats every folder of the path: resolved once per name, then one stat a call.
_paths: dict[tuple[str, str], str] = {}
_lock = threading.Lock()


def is_static_endpoint(endpoint: str | None) -> bool:
    return endpoint is not None and (endpoint == "static" or endpoint.endswith(".static"))


def _folder(app: Flask, endpoint: str) -> str | None:
    if endpoint == "static":
        return app.static_folder
    blueprint = app.blueprints.get(endpoint.rpartition(".")[0])
    return blueprint.static_folder if blueprint is not None else None


def file_version(app: Flask, endpoint: str, filename: str) -> str | None:
    """The first 12 hex digits of the SHA-256 of the file, or None if there is no such file.
    Hashed once per process and file, again only when its size or modification time moved (a
    developer editing a script sees the change at the next page)."""
    path = _paths.get((endpoint, filename))
    if path is None:
        folder = _folder(app, endpoint)
        if folder is None:
            return None
        path = os.path.realpath(os.path.join(folder, filename))
        if not path.startswith(os.path.realpath(folder) + os.sep):
            return None  # ../ out of the folder: Flask's view refuses it too
        if len(_paths) < 10_000:  # bounded: the names come from requests too
            _paths[(endpoint, filename)] = path
    try:
        stat = os.stat(path)
    except OSError:
        return None
    known = _versions.get(path)
    if known is not None and known[:2] == (stat.st_mtime_ns, stat.st_size):
        return known[2]
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 16), b""):
            digest.update(block)
    version = digest.hexdigest()[:12]
    with _lock:
        _versions[path] = (stat.st_mtime_ns, stat.st_size, version)
    return version


def init_static_files(app: Flask) -> None:
    @app.url_defaults
    def version_static_urls(endpoint: str, values: dict) -> None:
        if not is_static_endpoint(endpoint) or VERSION_PARAMETER in values:
            return
        filename = values.get("filename")
        version = file_version(current_app, endpoint, filename) if filename else None
        if version is not None:
            values[VERSION_PARAMETER] = version

    @app.after_request
    def cache_static_files(response: Response) -> Response:
        if not is_static_endpoint(request.endpoint) or response.status_code not in (200, 304):
            return response
        asked = request.args.get(VERSION_PARAMETER)
        filename = (request.view_args or {}).get("filename")
        if asked and filename and asked == file_version(app, request.endpoint, filename):
            response.cache_control.no_cache = None
            response.cache_control.public = True
            response.cache_control.max_age = VERSIONED_MAX_AGE
            response.cache_control.immutable = True
        return response
