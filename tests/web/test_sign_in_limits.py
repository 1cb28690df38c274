"""Sign-in limits: per address, per account and address, and a slower pace (never a lockout) for an attacked account."""

import time

from tests.web.dashboard_support import PASSWORD, make_user, sign_in

WRONG = "wrong password"


def at(address):
    """Request options that make the test client come from this address."""
    return {"environ_base": {"REMOTE_ADDR": address}}


def attempt(app, login, address, password=WRONG):
    """One sign-in from a fresh browser at this address, a wrong password unless given; return the status."""
    return sign_in(app.test_client(), login, password=password, **at(address)).status_code


def is_signed_in(client):
    return client.get("/dashboard/").status_code == 200


def test_failed_sign_ins_are_limited(make_app):
    app = make_app(LOGIN_LIMIT="3 per hour")
    client = app.test_client()
    login = make_user(app)
    for _ in range(3):
        assert sign_in(client, login, password=WRONG).status_code == 401
    assert sign_in(client, login, password=WRONG).status_code == 429
    # The limit holds for the right password too: guessing must not go on.
    assert sign_in(client, login).status_code == 429
    assert not is_signed_in(client)


def test_successful_sign_ins_do_not_count_against_the_limit(make_app):
    app = make_app(LOGIN_LIMIT="3 per hour")
    login = make_user(app)
    client = app.test_client()
    assert sign_in(client, login, password=WRONG).status_code == 401
    for _ in range(5):
        fresh = app.test_client()
        assert sign_in(fresh, login).status_code == 302
    assert sign_in(client, login, password=WRONG).status_code == 401
    assert sign_in(client, login, password=WRONG).status_code == 401
    assert sign_in(client, login, password=WRONG).status_code == 429


def test_an_address_trying_many_accounts_is_limited(make_app):
    app = make_app(LOGIN_LIMIT="3 per hour")
    logins = [make_user(app), make_user(app), "nobody-here"]
    for login in logins:
        assert attempt(app, login, "192.0.2.1") == 401
    other = make_user(app)
    assert attempt(app, other, "192.0.2.1", password=PASSWORD) == 429  # a new account, the right password: still 429
    assert attempt(app, other, "192.0.2.2", password=PASSWORD) == 302  # the limit is the address's, not the account's


def test_one_account_from_one_address_is_limited(make_app):
    app = make_app(LOGIN_ACCOUNT_LIMIT="2 per hour")
    login, neighbour = make_user(app), make_user(app)
    for _ in range(2):
        assert attempt(app, login, "192.0.2.1") == 401
    assert attempt(app, login, "192.0.2.1") == 429
    assert attempt(app, login, "192.0.2.1", password=PASSWORD) == 429  # guessing from there must not go on
    assert attempt(app, neighbour, "192.0.2.1", password=PASSWORD) == 302  # another account from the same address
    assert attempt(app, login, "192.0.2.2", password=PASSWORD) == 302  # the account from another address


def test_the_account_limit_ignores_the_case_of_the_login(make_app):
    app = make_app(LOGIN_ACCOUNT_LIMIT="2 per hour")
    make_user(app, login="Aigerim")
    assert attempt(app, "Aigerim", "192.0.2.1") == 401
    assert attempt(app, " AIGERIM ", "192.0.2.1") == 401
    assert attempt(app, "aigerim", "192.0.2.1", password=PASSWORD) == 429


def test_a_distributed_attack_does_not_lock_the_account_out(make_app):
    app = make_app()  # the shipped limits
    login = make_user(app)
    attackers = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
    statuses = [attempt(app, login, attackers[n % 3]) for n in range(21)]
    assert statuses == [401] * 21
    # The account is under attack now: each address may try it once every few seconds, no faster.
    assert attempt(app, login, attackers[2]) == 429
    client = app.test_client()
    response = sign_in(client, login, **at("203.0.113.7"))
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard/"
    assert is_signed_in(client)


def test_an_attacked_account_is_paced_not_locked(make_app):
    app = make_app(LOGIN_PACE_AFTER="3 per hour", LOGIN_PACE="1 per 2 seconds")
    make_user(app, login="Olga")
    for n, spelling in enumerate(["olga", "OLGA", "Olga"]):  # one account, however it is spelled
        assert attempt(app, spelling, f"198.51.100.{n + 1}") == 401
    # The owner mistypes once, at once tries again: too fast while the account is under attack ...
    assert attempt(app, "olga", "203.0.113.7") == 401
    assert attempt(app, "olga", "203.0.113.7", password=PASSWORD) == 429
    time.sleep(2.2)
    # ... but a moment later the right password works from the same address.
    assert attempt(app, "olga", "203.0.113.7", password=PASSWORD) == 302


def test_successful_sign_ins_do_not_count_towards_an_attack(make_app):
    app = make_app(LOGIN_PACE_AFTER="3 per hour")
    login = make_user(app)
    for n in range(5):
        assert attempt(app, login, f"192.0.2.{n + 10}", password=PASSWORD) == 302
    # Three failures make an attack; the successes before them did not count.
    assert [attempt(app, login, "192.0.2.1") for _ in range(4)] == [401, 401, 401, 401]
    assert attempt(app, login, "192.0.2.1") == 429
