"""Who is voting, as far as the network says: the reader's address and its
range. Pure functions: the app passes in what the request carried.

A vote is limited per address range, not per address: one home or office
gets a /24 (IPv4) or a /48 (IPv6, what a site is usually given), so a
reader can't get fresh limits by hopping addresses inside their own range.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_address(
    remote_addr: str, forwarded_for: str | None, trusted: Sequence[Network]
) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The reader's address.

    X-Forwarded-For is believed only from a trusted proxy (nginx replaces
    the header with ``$remote_addr``); with a chain, the last address not
    itself a trusted proxy is the reader's. Anything unparsable falls back
    to the connection's own address.
    """
    address = ipaddress.ip_address(remote_addr)
    if not forwarded_for or not is_trusted(address, trusted):
        return address
    for item in reversed(forwarded_for.split(",")):
        try:
            hop = ipaddress.ip_address(item.strip())
        except ValueError:
            return address
        if not is_trusted(hop, trusted):
            return hop
        address = hop
    return address


def is_trusted(address, trusted: Sequence[Network]) -> bool:
    """Whether ``address`` is one of the trusted proxies."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in trusted)


def address_range(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """The /24 (IPv4) or /48 (IPv6) an address belongs to, as text."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
