"""Who a person is, as the rules see it: their email as a mailbox that mail servers deliver to
one person, the identity token that signs them in, the secret that signs the sign-in cookie,
and a sign-in issued before they signed out. Pure rules; the app, the import and the people
use cases ask them."""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping

from decisions.i18n import _

# RFC 5321 section 4.1.2: Mailbox = Local-part "@" Domain, with the local part a Dot-string
# (atoms of atext joined by single dots). Its Quoted-string form (`"a b"@x.no`) and address
# literals (`a@[10.0.0.1]`) are refused: mail systems and people mistype or split them.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_MAILBOX = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+")
MAX_LOCAL_PART = 64  # RFC 5321 4.5.3.1.1
MAX_MAILBOX = 254  # a path of 256 octets, less its angle brackets


def is_mailbox(text: str) -> bool:
    """Whether `text` is one RFC 5321 mailbox (dot-string local part, a domain name with a
    dot), so that a server delivers mail for it to that address and no other."""
    if len(text) > MAX_MAILBOX or not _MAILBOX.fullmatch(text):
        return False
    return len(text.rsplit("@", 1)[0]) <= MAX_LOCAL_PART


def email_verified(claims: Mapping) -> bool:
    """The identity token says the provider verified the email: the claim is exactly true
    (not 1, not "true", not absent)."""
    return claims.get("email_verified") is True


def issued_before_sign_out(claims: Mapping, signed_out_at: int | None) -> bool:
    """Whether a sign-in (its identity token's `iat`, seconds since 1970) dates from before
    the person's last sign-out, so a copy of its cookie must not sign in again. Without an
    `iat` a sign-in cannot show that it is newer."""
    if signed_out_at is None:
        return False
    issued = claims.get("iat")
    if isinstance(issued, bool) or not isinstance(issued, int | float):
        return True
    return issued < signed_out_at


MIN_SECRET_BYTES = 32
MIN_DISTINCT = 8
_HEX = re.compile(r"[0-9a-fA-F]+")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")


def secret_bytes(secret: str) -> int:
    """How many bytes of key material `secret` carries as written: hex digits give half a byte
    each, base64 (or base64url, as `secrets.token_urlsafe` writes) three quarters, any other
    text a byte a character."""
    if _HEX.fullmatch(secret):
        return len(secret) // 2
    if _BASE64.fullmatch(secret):
        return len(secret.rstrip("=")) * 3 // 4
    return len(secret.encode())


def patterned(secret: str) -> bool:
    """Whether `secret` is made of few characters (`"x" * 32`), repeats its parts (`"abc" *
    11`, a half written twice: back-references shorten it by 15 % or more) or runs through
    neighbouring characters (`abcdef...`, `aabbcc...`) for half or more of it. Random text
    does none of these (back-references shorten 43 random characters by 7 % at most)."""
    if len(set(secret)) < MIN_DISTINCT:
        return True
    data = secret.encode()
    letters_only = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_HUFFMAN_ONLY)
    without_repeats = len(letters_only.compress(data) + letters_only.flush())
    if (without_repeats - len(zlib.compress(data, 9))) * 100 >= len(data) * 15:
        return True
    steps = [abs(ord(b) - ord(a)) <= 1 for a, b in zip(secret, secret[1:], strict=False)]
    return bool(steps) and sum(steps) * 2 >= len(steps)


# Placeholders people copy from documentation; anyone who reads it could sign session cookies.
PLACEHOLDER_SECRETS = {
    "a long random string",  # the README's example before it said how to make one
    "paste the output of the command below",  # the README's example
    "xxx",  # Streamlit's documentation
    "...",
    "changeme",
    "secret",
}


def cookie_secret_problem(secret: str, name: str = "`[auth]` `cookie_secret`") -> str | None:
    """Why `secret` may not sign the sign-in cookie (whoever can guess it can make a cookie
    for any email), or None: it must be at least 32 random bytes, not a placeholder, not
    patterned. `name` says where it was set."""
    if not secret:
        return _("{name} is not set.", name=name)
    if secret.strip().lower() in PLACEHOLDER_SECRETS:
        return _("{name} is a placeholder from the documentation.", name=name)
    if patterned(secret):
        return _("{name} repeats itself or runs through neighbouring characters, so it can be "
                 "guessed.", name=name)  # fmt: skip
    if secret_bytes(secret) < MIN_SECRET_BYTES:
        return _(
            "{name} holds {count} bytes of key material; it needs at least {minimum} random bytes.",
            name=name,
            count=secret_bytes(secret),
            minimum=MIN_SECRET_BYTES,
        )
    return None
