"""The waiver in force, read once: when it was granted and who granted it come from the same
grant (the first 'waived' event since the waiver was last removed), for the readiness rule and
for the Readiness page alike."""

from __future__ import annotations

import datetime as dt

from test_pages_programme import app_db, open_page  # noqa: F401  (fixture)

from decisions import planning, readiness, store


def shown_waiver(email: str, code: str) -> str:
    at = open_page(email, "pages/readiness.py", wave="W1")
    table = next(d.value for d in at.dataframe if "status_shown" in d.value.columns)
    return table.set_index("code").loc[code, "waiver"]


def test_a_waiver_granted_again_by_someone_else_and_extended_names_the_second_grant(
    app_db,  # noqa: F811
    actor,
):
    """Granted, removed, granted again by someone else, then extended by the first: the grant
    in force is the second, and both its date and its granter come from it."""
    conn, _ = app_db
    mona, admin = actor("mona@hemit.no"), actor("admin@hemit.no")
    for day, person, reason, until in [
        ("2022-09-02", mona, "first", "2022-12-01"),
        ("2022-09-05", mona, "", None),
        ("2022-09-10", admin, "Acceptance cycle in October", "2022-10-31"),
        ("2022-09-12", mona, "Acceptance cycle in October", "2022-11-30"),
    ]:
        store.put_setting(conn, "clock", day)
        planning.save_criterion(conn, person, "W1", "C4N",
                                {"waiver_reason": reason, "waiver_until": until})  # fmt: skip
    store.put_setting(conn, "clock", "2022-09-15")
    assert shown_waiver("vera@hemit.no", "C4N") == (
        "Acceptance cycle in October (by Admin, until 30 Nov 2022)"
    )
    (wave,) = readiness.assess(conn, dt.date(2022, 9, 15), "W1")[1]
    waiver = wave.result("C4N").criterion
    assert (waiver.waived_by, waiver.waived_at[:10]) == ("admin@hemit.no", "2022-09-10")


def test_a_waiver_removed_and_granted_again_by_someone_else_names_the_new_granter(app_db, actor):  # noqa: F811
    conn, _ = app_db
    for day, email, reason in [("2022-09-02", "mona@hemit.no", "first"),
                               ("2022-09-05", "mona@hemit.no", ""),
                               ("2022-09-10", "admin@hemit.no", "again")]:  # fmt: skip
        store.put_setting(conn, "clock", day)
        planning.save_criterion(conn, actor(email), "W1", "C4N", {"waiver_reason": reason,
                                "waiver_until": "2022-12-01" if reason else None})  # fmt: skip
    store.put_setting(conn, "clock", "2022-09-15")
    (wave,) = readiness.assess(conn, dt.date(2022, 9, 15), "W1")[1]
    waiver = wave.result("C4N").criterion
    assert (waiver.waived_by, waiver.waived_at[:10]) == ("admin@hemit.no", "2022-09-10")
    assert wave.result("C4N").status == "waived"
    assert shown_waiver("vera@hemit.no", "C4N") == "again (by Admin, until 01 Dec 2022)"
