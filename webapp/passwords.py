"""First passwords: random, printed on a sign-in slip, changed at the first sign-in."""

from __future__ import annotations

import secrets

# Lowercase letters and digits without look-alikes (0 o, 1 l i, 2 z, s): read from a
# printed slip and typed by a clerk without mistakes. 12 of 28 characters: about 58 bits.
PASSWORD_ALPHABET = "abcdefghjkmnpqrtuvwxy3456789"
PASSWORD_LENGTH = 12


def generate_password(length: int = PASSWORD_LENGTH) -> str:
    """A random password that reads unambiguously, with letters and at least one digit."""
    while True:
        password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password
