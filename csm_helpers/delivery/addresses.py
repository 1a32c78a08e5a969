"""Recipients: e-mail addresses (``--to``) and distribution lists (``lists.yaml``) for ``csm send``."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from email.headerregistry import Address, HeaderRegistry
from pathlib import Path

from csm_helpers.core.errors import CsmError
from csm_helpers.core.paths import read_text_file
from csm_helpers.core.yamlfile import load_yaml

__all__ = ["DEFAULT_SENDER", "parse_addresses", "load_distribution_lists"]


#: ``From`` when ``--from`` is not given.
DEFAULT_SENDER = "csm-workbook@localhost"


_LABEL_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


# --------------------------------------------------------------------------- addresses
def _split_list(text: str) -> list[str]:
    """Split an address list on commas outside quotes and angle brackets."""
    parts, buf, quoted, angle, escaped = [], [], False, False, False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == "<" and not quoted:
            angle = True
        elif ch == ">" and not quoted:
            angle = False
        elif ch in ",;" and not quoted and not angle:
            parts.append("".join(buf))
            buf = []
            continue
        buf.append(ch)
    parts.append("".join(buf))
    return [p.strip() for p in parts if p.strip()]


def _parse_one(entry: str, source: str) -> Address:
    def bad(why: str) -> CsmError:
        return CsmError(f"{source}: {entry!r} is not a valid e-mail address ({why}) — "
                        "write it as name@example.com or \"Display Name <name@example.com>\"")

    if any(c in entry for c in "\r\n\0"):
        raise bad("it contains a line break")
    try:
        header = HeaderRegistry()("To", entry)
        addresses = list(header.addresses)
    except Exception as exc:  # the header parser raises several kinds on garbage
        raise bad("it cannot be parsed") from exc
    if len(addresses) != 1:
        raise bad(f"it holds {len(addresses)} addresses; separate addresses with commas")
    if header.defects:
        raise bad(str(header.defects[0]).rstrip(")"))
    addr = addresses[0]
    if not addr.username or not addr.domain:
        raise bad("it needs a name, an @ and a domain")
    if not addr.addr_spec.isascii():
        raise bad("non-ASCII addresses need SMTPUTF8, which csm send does not use; "
                  "use the ASCII (punycode) form of the domain")
    domain = addr.domain
    if domain.startswith("[") and domain.endswith("]"):
        try:
            ipaddress.ip_address(domain[1:-1].removeprefix("IPv6:"))
        except ValueError:
            raise bad(f"the domain literal {domain} is not an IP address") from None
    elif not all(_LABEL_RE.match(label) for label in domain.split(".")):
        raise bad(f"the domain {domain!r} is not a valid host name")
    return addr


def parse_addresses(addresses: str | Iterable[str], *, source: str = "--to") -> list[Address]:
    """Parse and validate e-mail addresses; duplicates (case-insensitive) are dropped.

    Parameters
    ----------
    addresses : str or iterable of str
        A comma-separated list (``a@x.vn, "Trần Thị B" <b@x.vn>``), or entries each
        holding one or more comma-separated addresses.
    source : str
        Where the addresses came from, for the error message (an option or a file and key).

    Returns
    -------
    list of email.headerregistry.Address
        ``str(a)`` is the header form, ``a.addr_spec`` the envelope address.

    Raises
    ------
    CsmError
        Naming the first invalid address, why it is invalid and how to write it.

    Examples
    --------
    >>> [a.addr_spec for a in parse_addresses('ceo@bank.vn, "Lê, Hà" <ha@bank.vn>, CEO@bank.vn')]
    ['ceo@bank.vn', 'ha@bank.vn']
    >>> parse_addresses(["张三 <zs@example.cn>"])[0].display_name
    '张三'
    >>> parse_addresses("ceo@bank..vn")
    Traceback (most recent call last):
    ...
    csm_helpers.core.errors.CsmError: --to: 'ceo@bank..vn' is not a valid e-mail address ...
    """
    entries = [addresses] if isinstance(addresses, str) else list(addresses)
    out: list[Address] = []
    seen: set[str] = set()
    for entry in entries:
        if not isinstance(entry, str):
            raise CsmError(f"{source}: {entry!r} is not an e-mail address (found "
                           f"{type(entry).__name__}) — write addresses as text")
        for part in _split_list(entry):
            addr = _parse_one(part, source)
            key = addr.addr_spec.lower()
            if key not in seen:
                seen.add(key)
                out.append(addr)
    return out


def load_distribution_lists(path: str | Path) -> dict[str, list[Address]]:
    """Read a distribution-list file: a YAML mapping of segment -> addresses.

    Keys are segments as ``metrics.json`` names them (``all``, ``region=Hanoi``) or their
    folder names; values are a list of addresses or one comma-separated string.

    Raises
    ------
    CsmError
        When the file is missing or not such a mapping, or an address is invalid (the
        message names the file, the segment key and the address).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "lists.yaml"
    >>> _ = p.write_text("all: [ceo@bank.vn]\\nregion=Hanoi: a@bank.vn, b@bank.vn\\n", encoding="utf-8")
    >>> {k: [a.addr_spec for a in v] for k, v in load_distribution_lists(p).items()}
    {'all': ['ceo@bank.vn'], 'region=Hanoi': ['a@bank.vn', 'b@bank.vn']}
    """
    path = Path(path)
    text = read_text_file(path, what="distribution-list file", encoding="utf-8",
                          hint="check --lists (UTF-8 YAML like 'region=Hanoi: [a@x.vn, b@x.vn]')")
    data = load_yaml(text, source=path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CsmError(f"{path}: expected a mapping of segment -> list of addresses, found "
                       f"{type(data).__name__} — write e.g. 'region=Hanoi: [a@x.vn, b@x.vn]'")
    lists: dict[str, list[Address]] = {}
    for key, value in data.items():
        where = f"{path.name}, segment {str(key)!r}"
        if value is None:
            value = []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise CsmError(f"{where}: expected a list of addresses, found {type(value).__name__} — "
                           "write e.g. [a@x.vn, b@x.vn]")
        lists[str(key)] = parse_addresses(value, source=where)
    return lists
