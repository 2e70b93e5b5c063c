"""TLS to an Asterisk on another host: AMI over TLS (manager.conf ``tlsenable``, port 5039) and ARI over HTTPS /
WSS (http.conf ``tlsenable``, port 8089).

Off by default: ctiserver and Asterisk on one box talk over loopback, where TLS adds nothing. Across a network
the AMI ``Login`` (even its MD5 challenge), the ARI ``Authorization`` header and every caller's number and name
travel in the clear without it. The certificate is checked against the system's CAs or ``ca_file`` (the PEM of a
private CA, or Asterisk's self-signed certificate itself), for the host name in the configuration or
``server_name``. ``verify: false`` checks nothing (a lab; a warning is logged at start).
"""

from __future__ import annotations

import ssl
from urllib.parse import urlsplit

from ctiserver.config import TlsTrust
from ctiserver.logs import get_logger

log = get_logger(__name__)


def client_context(trust: TlsTrust, what: str) -> ssl.SSLContext:
    """A client context for ``what`` ("AMI", "ARI"); a ``ca_file`` that cannot be read is a ``ValueError`` naming
    it, at start-up rather than at every connection attempt."""
    try:
        context = ssl.create_default_context(cafile=trust.ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"{what} tls.ca_file {trust.ca_file!r}: {exc}") from exc
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if not trust.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def warn_unverified(trust: TlsTrust, what: str, host: str) -> None:
    if not trust.verify:
        log.warning("TLS without certificate check: the PBX is not authenticated", link=what, host=host)


def for_url(url: str, trust: TlsTrust, what: str) -> tuple[ssl.SSLContext | None, str | None]:
    """The context and the name the certificate is checked for, for an ``https://`` url; (None, None) for
    plain HTTP."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        return None, None
    warn_unverified(trust, what, parts.hostname or "")
    return client_context(trust, what), trust.server_name or parts.hostname
