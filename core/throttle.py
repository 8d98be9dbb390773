"""Login throttling: failed logins are counted per account and per client address.

Only failures count (the login view answers 401 on one), so a user who types the password right
is never slowed down by the attempts of others below the limit. Every application gets a limiter
of its own: its counters live in ``RATELIMIT_STORAGE_URI`` (in memory by default, Redis when
several workers or hosts must share them).
"""

from __future__ import annotations

import math
import time

from flask import Flask, Response, make_response, render_template, request
from flask_limiter import Limit, Limiter, RateLimitExceeded

LOGIN_ENDPOINT = "auth.login"
FAILED_LOGINS = "10 per 5 minutes"
MESSAGE = "Too many failed logins for this account or address; try again in a few minutes."


def _account() -> str:
    # Case-folded: logins differing only in case must not get ten tries each.
    return "account:" + request.form.get("login", "").strip().casefold()


def _address() -> str:
    # Behind a proxy, request.remote_addr is only the client's when the WSGI app is wrapped in
    # werkzeug's ProxyFix by the deployment.
    return "address:" + (request.remote_addr or "unknown")


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _limit(key) -> Limit:
    return Limit(
        FAILED_LOGINS,
        key_function=key,
        methods=["POST"],
        deduct_when=_failed,
        error_message=MESSAGE,
    )


def init_throttle(app: Flask) -> Limiter:
    storage_uri = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    # Default limits rather than a decorator on the view: they are checked by this app's own
    # limiter in before_request, so two applications in one process never share counters.
    limiter = Limiter(
        _address,
        default_limits=[_limit(_account), _limit(_address)],
        storage_uri=storage_uri,
        # "10 within 5 minutes" of any 5 minutes, not of a clock-aligned window.
        strategy="moving-window",
        # Redis out of reach must not lock everybody out: each worker then counts on its own.
        in_memory_fallback_enabled=not storage_uri.startswith("memory://"),
    )
    limiter.request_filter(lambda: request.endpoint != LOGIN_ENDPOINT)
    limiter.init_app(app)
    app.extensions["crm_throttle"] = limiter

    def too_many_failures(error: RateLimitExceeded):
        if request.endpoint != LOGIN_ENDPOINT:
            page = render_template("core/error.html", code=429, message=error.description)
        else:
            page = render_template("core/login.html", error=error.description)
        response = make_response(page, 429)
        current = limiter.current_limit
        if current is not None:
            # limits rounds reset_at up to the next second: never announce more than the window.
            wait = min(
                max(1, math.ceil(current.reset_at - time.time())), current.limit.get_expiry()
            )
            response.headers["Retry-After"] = str(wait)
        return response

    app.register_error_handler(RateLimitExceeded, too_many_failures)
    return limiter
