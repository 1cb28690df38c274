"""Banned authors: e-mail addresses, IP addresses and IP ranges whose comments go to spam unscored."""

import ipaddress

from sqlalchemy import and_, delete, or_, select

from moderation.db import db, utcnow
from moderation.models import Ban

EMAIL, IP = "email", "ip"
# Ranges wider than these would ban whole providers or countries; almost surely a typo.
WIDEST_PREFIX = {4: 8, 6: 32}


class BanError(ValueError):
    """A ban value that is not an e-mail address, an IP or a range ("wide": a range too wide to ban)."""


def normalise(kind, value):
    """The canonical stored form: lower-case e-mail, compressed IP or CIDR network; BanError names the fault."""
    value = (value or "").strip()
    if kind == EMAIL:
        if "@" not in value or len(value) > 254:
            raise BanError("email")
        return value.lower()
    if kind == IP:
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError as exc:
            raise BanError("ip") from exc
        if network.prefixlen < WIDEST_PREFIX[network.version]:
            raise BanError("wide")
        return str(network.network_address) if network.num_addresses == 1 else str(network)
    raise BanError("kind")


def add_ban(kind, value, user=None, site_id=None, note=None, expires_at=None):
    """Ban an author; return (ban, created). An equal ban that exists already is returned as it is."""
    value = normalise(kind, value)
    same_site = Ban.site_id.is_(None) if site_id is None else Ban.site_id == site_id
    existing = db.session.scalar(select(Ban).where(Ban.kind == kind, Ban.value == value, same_site))
    if existing is not None:
        return existing, False
    ban = Ban(
        kind=kind,
        value=value,
        site_id=site_id,
        note=note,
        created_by_id=user.id if user else None,
        expires_at=expires_at,
    )
    db.session.add(ban)
    db.session.flush()
    return ban, True


def remove_ban(ban_id):
    """Lift a ban."""
    db.session.execute(delete(Ban).where(Ban.id == ban_id))


def all_bans():
    """Every ban, newest first."""
    return db.session.scalars(select(Ban).order_by(Ban.id.desc())).all()


def ban_for(site_id, email, author_ip):
    """The ban that covers this author on this site, or None."""
    return matching(candidates({site_id}, {email}), site_id, email, author_ip)


def candidates(site_ids, emails):
    """In one statement, the bans in force that may cover authors of these sites with these e-mail addresses:
    theirs, and every IP ban of those sites (matched by `matching`)."""
    emails = {email.strip().lower() for email in emails if email}
    by = Ban.kind == IP
    if emails:
        by = or_(by, and_(Ban.kind == EMAIL, Ban.value.in_(emails)))
    sites = [site_id for site_id in site_ids if site_id is not None]
    return db.session.scalars(
        select(Ban).where(
            or_(Ban.site_id.is_(None), Ban.site_id.in_(sites)),
            or_(Ban.expires_at.is_(None), Ban.expires_at > utcnow()),
            by,
        )
    ).all()


def matching(bans, site_id, email, author_ip):
    """The ban of `bans` (as `candidates` reads them) that covers this author on this site, or None; an e-mail
    ban before an IP one."""
    scoped = [ban for ban in bans if ban.site_id is None or ban.site_id == site_id]
    if email:
        email = email.strip().lower()
        for ban in scoped:
            if ban.kind == EMAIL and ban.value == email:
                return ban
    if author_ip:
        try:
            addresses = _forms_of(ipaddress.ip_address(author_ip))
        except ValueError:
            return None
        for ban in scoped:
            network = ipaddress.ip_network(ban.value, strict=False) if ban.kind == IP else None
            if network is not None and any(address in network for address in addresses):
                return ban
    return None


def _forms_of(address):
    """An address and its other spelling: dual-stack servers report IPv4 readers as ::ffff:a.b.c.d."""
    if address.version == 6 and address.ipv4_mapped is not None:
        return address, address.ipv4_mapped
    if address.version == 4:
        return address, ipaddress.IPv6Address(f"::ffff:{address}")
    return (address,)
