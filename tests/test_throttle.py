"""Login throttling: ten failed logins within five minutes, per account or per client address,
and the next attempt is refused with 429 on the login page."""

from __future__ import annotations

import uuid

import pytest

from core.testing import TEST_PASSWORD, make_user
from core.throttle import MESSAGE

REDIS_URL = "redis://127.0.0.1:6379/15"
LIMIT = 10
WRONG = "not the password"


@pytest.fixture
def app(crm_app_factory):
    app = crm_app_factory()
    make_user(app, "maria")
    make_user(app, "peter")
    return app


def _from(app, address: str):
    """A browser at ``address``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _attempt(client, login: str, password: str = WRONG, address: str | None = None):
    extra = {"environ_base": {"REMOTE_ADDR": address}} if address else {}
    return client.post("/login", data={"login": login, "password": password}, **extra)


def _fail(client, login: str, times: int, address: str | None = None) -> None:
    for n in range(times):
        response = _attempt(client, login, address=address)
        assert response.status_code == 401, f"failure {n + 1} of {login}"


def test_the_eleventh_failed_login_in_a_row_is_refused_with_the_reason(app):
    client = app.test_client()
    _fail(client, "maria", LIMIT)
    blocked = _attempt(client, "maria")
    assert blocked.status_code == 429
    page = blocked.get_data(as_text=True)
    assert MESSAGE in page
    assert 'name="password"' in page, "the login page, not a bare error page"
    assert 0 < int(blocked.headers["Retry-After"]) <= 300
    # Even the right password waits: the attacker must not learn it was right.
    assert _attempt(client, "maria", TEST_PASSWORD).status_code == 429
    # The same account from another address, by its login typed in other case, too.
    assert _attempt(app.test_client(), "MARIA ", address="10.0.0.9").status_code == 429


def test_a_correct_password_below_the_limit_still_logs_in(app):
    client = app.test_client()
    _fail(client, "maria", LIMIT - 1)
    response = _attempt(client, "maria", TEST_PASSWORD)
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_successful_logins_and_the_login_page_are_not_counted(app):
    for _ in range(LIMIT + 2):
        assert app.test_client().get("/login").status_code == 200
        assert _attempt(app.test_client(), "peter", TEST_PASSWORD).status_code == 302


def test_other_accounts_from_other_addresses_are_not_blocked(app):
    attacker = _from(app, "203.0.113.7")
    _fail(attacker, "maria", LIMIT)
    assert _attempt(attacker, "maria").status_code == 429

    colleague = _from(app, "198.51.100.20")
    _fail(colleague, "peter", 3)
    assert _attempt(colleague, "peter", TEST_PASSWORD).status_code == 302
    assert colleague.get("/").status_code == 200


def test_one_address_trying_many_accounts_is_blocked(app):
    client = _from(app, "203.0.113.8")
    for n in range(LIMIT):
        assert _attempt(client, f"guess{n}").status_code == 401
    assert _attempt(client, "peter", TEST_PASSWORD).status_code == 429
    # Peter himself, from his own address, is not.
    own = _from(app, "198.51.100.21")
    assert _attempt(own, "peter", TEST_PASSWORD).status_code == 302


def test_each_application_counts_on_its_own_in_memory(crm_app_factory, app):
    _fail(app.test_client(), "maria", LIMIT)
    assert _attempt(app.test_client(), "maria").status_code == 429
    other = crm_app_factory()
    make_user(other, "maria")
    assert _attempt(other.test_client(), "maria", TEST_PASSWORD).status_code == 302


@pytest.fixture
def redis_prefix():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        pytest.skip(f"no Redis answers at {REDIS_URL} ({exc}): the shared-storage test needs one")
    prefix = f"crmtest-{uuid.uuid4().hex[:12]}"
    yield prefix
    for key in client.scan_iter(match=f"*{prefix}*"):
        client.delete(key)
    client.close()


def test_workers_share_the_count_through_redis(crm_app_factory, redis_prefix):
    config = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": redis_prefix}
    first = crm_app_factory(config=config)
    make_user(first, "maria")
    # A second application on the same database, as a second worker or host would be.
    second = crm_app_factory(config=config, database_url=str(first.config["DATABASE_URL"]))
    try:
        _fail(first.test_client(), "maria", LIMIT // 2)
        _fail(second.test_client(), "maria", LIMIT - LIMIT // 2)
        blocked = _attempt(first.test_client(), "maria", TEST_PASSWORD)
        assert blocked.status_code == 429
        assert _attempt(second.test_client(), "maria", TEST_PASSWORD).status_code == 429
        assert MESSAGE in blocked.get_data(as_text=True)
    finally:
        for app in (first, second):
            app.extensions["crm_throttle"].storage.storage.close()


def test_an_unreachable_redis_does_not_lock_everybody_out(crm_app_factory):
    # Nothing listens on port 1: each worker then counts in its own memory.
    app = crm_app_factory(config={"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/15"})
    make_user(app, "maria")
    assert _attempt(app.test_client(), "maria", TEST_PASSWORD).status_code == 302
    _fail(app.test_client(), "maria", LIMIT)
    assert _attempt(app.test_client(), "maria").status_code == 429


def _fail_many_accounts(client, forwarded_for: str) -> None:
    for n in range(LIMIT):
        response = client.post(
            "/login",
            data={"login": f"nobody{n}", "password": WRONG},
            headers={"X-Forwarded-For": forwarded_for},
        )
        assert response.status_code == 401


def test_a_forged_forwarded_address_changes_nothing_without_a_trusted_proxy(app):
    client = _from(app, "198.51.100.7")
    _fail_many_accounts(client, "203.0.113.1")
    rotated = client.post(
        "/login",
        data={"login": "someone", "password": WRONG},
        headers={"X-Forwarded-For": "203.0.113.99"},
    )
    assert rotated.status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(crm_app_factory):
    app = crm_app_factory(config={"TRUSTED_PROXIES": 1})
    balancer = _from(app, "10.0.0.1")
    _fail_many_accounts(balancer, "203.0.113.1")
    other_user = balancer.post(
        "/login",
        data={"login": "someone", "password": WRONG},
        headers={"X-Forwarded-For": "203.0.113.2"},
    )
    assert other_user.status_code == 401, "another client behind the same balancer"
    same_user = balancer.post(
        "/login",
        data={"login": "someone", "password": WRONG},
        headers={"X-Forwarded-For": "203.0.113.1"},
    )
    assert same_user.status_code == 429
