"""Who a person is: emails that are one RFC 5321 mailbox (in the app and the import), an
identity token whose email_verified is exactly true, a cookie secret of real randomness, no one
changing their own roles, and a sign-out that revokes every sign-in issued before it."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import snapshot
from test_admin import NEW_EXPERT
from test_import_rules import EXPERTS, messages, run_import

from decisions import admin, identity
from decisions.model import WorkflowError
from decisions.store import people as people_store

NOT_MAILBOXES = ['a"b:c@x.no', '"a b"@x.no', "a@b", "a..b@x.no", ".a@x.no", "a@x..no",
                 "a@-x.no", "a b@x.no", "a@[10.0.0.1]", "a<b>@x.no", "a,b@x.no",
                 "x" * 65 + "@x.no"]  # fmt: skip
MAILBOXES = ["kari@stolav.no", "o'brien@x.no", "first.last+tag@sub.example.org"]


@pytest.mark.parametrize("email", NOT_MAILBOXES)
def test_an_email_that_is_not_one_mailbox_is_refused(email):
    assert not identity.is_mailbox(email)


@pytest.mark.parametrize("email", MAILBOXES)
def test_a_mailbox_is_accepted(email):
    assert identity.is_mailbox(email)


def test_the_people_page_refuses_an_email_that_would_reach_someone_else(programme, actor):
    before = snapshot(programme)
    with pytest.raises(WorkflowError, match="is not an email address"):
        admin.save_expert(programme, actor("mona@hemit.no"),
                          **(NEW_EXPERT | {"email": 'a"b:c@x.no'}))  # fmt: skip
    assert snapshot(programme) == before


def test_the_import_refuses_an_email_that_would_reach_someone_else(programme):
    before = snapshot(programme)
    result = run_import(programme, "experts", EXPERTS + '"a""b:c@x.no",Ab,STO,MED,expert,50\n')
    assert not result.ok
    assert any("is not an email address" in m for m in messages(result)), messages(result)
    assert snapshot(programme) == before


@pytest.mark.parametrize("verified", [True])
def test_email_verified_true_is_verified(verified):
    assert identity.email_verified({"email": "a@x.no", "email_verified": verified})


@pytest.mark.parametrize("verified", [False, 0, 1, "true", "True", "yes", None, [True]])
def test_email_verified_anything_but_true_is_not(verified):
    assert not identity.email_verified({"email": "a@x.no", "email_verified": verified})
    assert not identity.email_verified({"email": "a@x.no"})


@pytest.mark.parametrize(
    "secret",
    ["x" * 32, "x" * 64, "abc" * 11, "0123456789abcdef" * 4, "abcdefghijklmnopqrstuvwxyzABCDEFGH",
     "aabbccddeeffgghhiijjkkllmmnnoopp", secrets.token_hex(16) * 2],
)  # fmt: skip
def test_a_patterned_cookie_secret_is_refused(secret):
    assert identity.cookie_secret_problem(secret)


@pytest.mark.parametrize(
    ("secret", "why"),
    [(secrets.token_hex(31), "31 bytes"), (secrets.token_urlsafe(31), "31 bytes"),
     ("short-but-random-0123456789", "20 bytes")],
)  # fmt: skip
def test_a_cookie_secret_of_fewer_than_32_random_bytes_is_refused(secret, why):
    assert why in identity.cookie_secret_problem(secret)


def test_secrets_as_python_makes_them_are_accepted():
    made = [secrets.token_urlsafe(32), secrets.token_urlsafe(48), secrets.token_hex(32)]
    for _ in range(500):
        for secret in made:
            assert identity.cookie_secret_problem(secret) is None, secret
        made = [secrets.token_urlsafe(32), secrets.token_urlsafe(48), secrets.token_hex(32)]


def manager_fields(conn, email: str) -> dict:
    person = people_store.get_expert(conn, email)
    fields = ("email", "name", "organization", "domains", "roles", "allocation_pct", "forums")
    return {f: person[f] for f in fields} | {"row_version": person["row_version"]}


def test_a_manager_cannot_give_themselves_the_expert_role(programme, actor):
    before = snapshot(programme)
    mona = manager_fields(programme, "mona@hemit.no")
    with pytest.raises(WorkflowError, match="no one changes their own"):
        admin.save_expert(programme, actor("mona@hemit.no"),
                          **(mona | {"roles": ["manager", "expert"], "domains": ["MED"]}))  # fmt: skip
    assert snapshot(programme) == before


def test_an_admin_gives_a_manager_the_expert_role(programme, actor):
    mona = manager_fields(programme, "mona@hemit.no")
    admin.save_expert(programme, actor("admin@hemit.no"),
                      **(mona | {"roles": ["manager", "expert"], "domains": ["MED"]}))  # fmt: skip
    assert "expert" in actor("mona@hemit.no").roles


def test_a_manager_cannot_give_themselves_a_role_by_import(programme, actor):
    before = snapshot(programme)
    text = EXPERTS + "mona@hemit.no,Mona,STO,MED,manager;expert,50\n"
    result = run_import(programme, "experts", text, actor("mona@hemit.no"))
    assert not result.ok
    assert any("no one changes their own" in m for m in messages(result)), messages(result)
    assert snapshot(programme) == before


def test_a_sign_out_revokes_the_sign_ins_issued_before_it(programme, actor):
    email = "hanne@stolav.no"
    before = {"email": email, "email_verified": True, "iat": int(time.time()) - 60}
    assert not admin.sign_in_revoked(programme, email, before)
    admin.sign_out(programme, actor(email))
    assert admin.sign_in_revoked(programme, email, before)
    assert admin.sign_in_revoked(programme, email, {"email": email})  # cannot show it is newer
    after = before | {"iat": int(time.time()) + 1}
    assert not admin.sign_in_revoked(programme, email, after)
    assert not admin.sign_in_revoked(programme, "per@stolav.no", before)  # only theirs


def test_serve_refuses_a_patterned_cookie_secret_from_the_environment():
    serve = Path(__file__).resolve().parents[1] / "scripts" / "serve"
    done = subprocess.run([sys.executable, str(serve), "--port", "1"], capture_output=True,
                          text=True, timeout=60,
                          env={**os.environ, "DECISIONS_COOKIE_SECRET": "x" * 40})  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "$DECISIONS_COOKIE_SECRET" in done.stderr
