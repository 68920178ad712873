"""Tokens, Host allow-list and same-origin checks (SECURITY.md promises 1-3).

The guard wraps the whole WSGI app (Flask routes and the Socket.IO endpoint
alike), so a DNS-rebinding page or a cross-site request is refused before any
handler runs.
"""
import functools
import hmac
import ipaddress
import json
import secrets
import socket
from urllib.parse import urlsplit

TOKEN_BYTES = 24          # 192 bits
COOKIE = "gradviz_token"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def new_token():
    """A fresh random token (192 bits, hex) from ``secrets``."""
    return secrets.token_hex(TOKEN_BYTES)


def token_ok(given, expected):
    """Constant-time comparison of a presented token with the expected one."""
    if expected is None:
        return True
    if not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def is_loopback(host):
    """True for 127.0.0.0/8, ::1 and 'localhost'."""
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(bind_host, extra=()):
    """Host names a request may carry in its Host header."""
    hosts = {"localhost", "127.0.0.1", "::1"}
    h = bind_host.strip("[]")
    if is_wildcard(h):
        hosts.update({socket.gethostname().lower(), socket.getfqdn().lower()})
    else:
        hosts.add(h.lower())
    hosts.update(x.lower() for x in extra)
    return hosts


def is_wildcard(bind_host):
    """True for a bind address that listens on every interface."""
    return bind_host.strip("[]") in ("0.0.0.0", "::", "")


@functools.lru_cache(maxsize=256)
def is_local_address(host):
    """True when ``host`` is an IP literal of one of this machine's interfaces.

    Binding a socket to an address succeeds only for a local one; an IP literal
    in the Host header cannot come from DNS rebinding (that needs a name)."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    if ip.is_unspecified or ip.is_multicast:
        return False
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.bind((str(ip), 0))
        return True
    except OSError:
        return False


def host_name(host_header):
    """The host part of a Host header (``[::1]:5000`` -> ``::1``)."""
    h = (host_header or "").strip().lower()
    if h.startswith("["):
        return h[1:h.find("]")] if "]" in h else h
    return h.rsplit(":", 1)[0] if h.count(":") == 1 else h


def same_origin(origin, environ):
    """True when an Origin header names this very server (scheme, host and port)."""
    if origin is None:
        return True
    try:
        o = urlsplit(origin)
    except ValueError:
        return False
    scheme = environ.get("wsgi.url_scheme", "http")
    return o.scheme == scheme and o.netloc.lower() == environ.get("HTTP_HOST", "").lower()


class Guard:
    """WSGI middleware: Host allow-list and same-origin check on every request."""

    def __init__(self, app, hosts, local_ips=False):
        self.app = app
        self.hosts = set(hosts)
        self.local_ips = local_ips   # also this machine's own IP addresses (a 0.0.0.0 bind)

    def host_ok(self, host):
        """True when a request may name this server ``host``."""
        return host in self.hosts or (self.local_ips and is_local_address(host))

    def __call__(self, environ, start_response):
        if not self.host_ok(host_name(environ.get("HTTP_HOST"))):
            return _refuse(start_response, "BAD_HOST",
                           "this server only answers to its own host names "
                           "(Host header not allowed)")
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and not same_origin(origin, environ):
            return _refuse(start_response, "BAD_ORIGIN",
                           "cross-origin requests are not allowed")
        return self.app(environ, start_response)


def _refuse(start_response, code, message):
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    start_response("403 Forbidden", [("Content-Type", "application/json"),
                                     ("Content-Length", str(len(body)))])
    return [body]


def request_token(request, allow_cookie=True):
    """The token a Flask request presents: ``?token=``, ``Authorization: token``, or cookie."""
    tok = request.args.get("token")
    if tok:
        return tok
    auth = request.headers.get("Authorization", "")
    if auth[:6].lower() == "token ":
        return auth[6:].strip()
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    if allow_cookie:
        return request.cookies.get(COOKIE)
    return None
