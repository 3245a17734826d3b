"""Mail headers and body parts encoded once, as plain strings, so that flattening a message copies them: the `email`
package re-parses and refolds every header object of every message when it is flattened (`_refold_parse_tree`),
which cost more than the rest of composing a mail. The encoding is the one RFC 5322 / RFC 2047 / RFC 2045 ask for
and the `email` package reads back to the same text: ASCII text folded at spaces to 78 characters; text with other
characters as UTF-8 base64 encoded words of at most 75 characters, never splitting a character, one per line
(whitespace between encoded words is not part of the text, RFC 2047 6.2); bodies quoted-printable UTF-8.

A value these functions do not handle (an address outside ASCII, which needs SMTPUTF8) is None: the caller then
sets it through the `email` package as before."""

from __future__ import annotations

import base64
import random
import sys
from email import quoprimime
from email.message import MIMEPart
from email.utils import formataddr, parseaddr

MAX_LINE = 78  # RFC 5322 2.1.1: lines SHOULD be no longer than 78 characters
MAX_WORD = 75  # RFC 2047 2: an encoded word is at most 75 characters
_PREFIX, _SUFFIX = "=?utf-8?b?", "?="
FOLD = "\n "  # the generator writes each line with the message's line separator (CRLF for SMTP)


def _fold_ascii(name: str, words: list[str]) -> str:
    """Words joined by single spaces, a line break before a word that would pass 78 characters (a word longer than
    a line stays whole: folding happens only at whitespace)."""
    whole = " ".join(words)
    if len(name) + 2 + len(whole) > MAX_LINE and 1 + len(whole) <= MAX_LINE:
        return FOLD + whole  # fits on a line of its own: the whole value on the next line, as the email package does
    lines: list[str] = []
    line = ""
    used = len(name) + 2  # "Name: "
    for word in words:
        if not line:
            if lines or used + len(word) <= MAX_LINE or not word:
                line = word
            else:  # too long for the header's first line: start it on the next (as the email package does)
                lines.append("")
                used = 1
                line = word
        elif used + len(line) + 1 + len(word) <= MAX_LINE:
            line += " " + word
        else:
            lines.append(line)
            used = 1
            line = word
    lines.append(line)
    return FOLD.join(lines)


def _encoded_words(text: str, room: int) -> list[str]:
    """`text` as base64 encoded words; the first fits in `room` characters, the others on lines of their own."""
    words: list[str] = []
    chunk = bytearray()
    limit = _chunk_bytes(room)
    for character in text:
        encoded = character.encode()
        if len(chunk) + len(encoded) > limit and chunk:
            words.append(_PREFIX + base64.b64encode(chunk).decode("ascii") + _SUFFIX)
            chunk = bytearray()
            limit = _chunk_bytes(MAX_LINE - 1)
        chunk += encoded
    if chunk or not words:
        words.append(_PREFIX + base64.b64encode(chunk).decode("ascii") + _SUFFIX)
    return words


def _chunk_bytes(room: int) -> int:
    """How many bytes fit in one encoded word on a line with `room` characters left (at least one character's)."""
    characters = min(room, MAX_WORD) - len(_PREFIX) - len(_SUFFIX)
    return max(4, characters // 4 * 3)


def unstructured(name: str, value: str) -> str:
    """An unstructured header's value (Subject, an identifier, a note), folded and encoded."""
    if value.isascii():
        return _fold_ascii(name, value.split(" "))
    words = _encoded_words(value, MAX_LINE - len(name) - 2)
    return FOLD.join(words)


def _phrase_and_address(name: str, display: str, address: str) -> str | None:
    if not address.isascii():
        return None
    if not display:
        return _fold_ascii(name, [address])
    if display.isascii():
        quoted = formataddr((display, address))  # quotes a name with specials
        return _fold_ascii(name, quoted.split(" "))
    words = _encoded_words(display, MAX_LINE - len(name) - 2)
    angle = f"<{address}>"
    last = words[-1]
    words[-1] = f"{last} {angle}" if (len(last) + 1 + len(angle) <= MAX_LINE - 1) else f"{last}{FOLD}{angle}"
    return FOLD.join(words)


def address_header(name: str, value: str) -> str | None:
    """A one-mailbox address header from "Display Name <address>" (the configured sender)."""
    display, address = parseaddr(value)
    if not address or "@" not in address:
        return None
    return _phrase_and_address(name, display, address)


def recipient_header(full_name: str, address: str) -> str | None:
    return _phrase_and_address("To", full_name, address)


def boundary() -> str:
    """A multipart boundary of the `email` package's form. It needs no check against the bodies: they are
    quoted-printable, where "=" is always written "=3D", so "===" never occurs in them."""
    return "=" * 15 + f"{random.randrange(sys.maxsize):0{len(repr(sys.maxsize - 1))}d}" + "=="


def text_part(subtype: str, text: str, *, mime_version: bool = False) -> MIMEPart:
    """A text body part, UTF-8 quoted-printable, as `set_content(..., charset="utf-8", cte="quoted-printable")`
    writes it (lines normalised to "\\n", a final newline, soft breaks at 78 characters, as the default policy).
    `mime_version`: the part carries a MIME-Version header, as `add_alternative` wrote one into the HTML part."""
    part = MIMEPart()
    part.set_raw("Content-Type", f'text/{subtype}; charset="utf-8"')
    part.set_raw("Content-Transfer-Encoding", "quoted-printable")
    if mime_version:
        part.set_raw("MIME-Version", "1.0")
    lines = text.encode("utf-8").splitlines()
    body = (b"\n".join(lines) + b"\n").decode("latin-1")
    part.set_payload(quoprimime.body_encode(body, MAX_LINE))
    return part
