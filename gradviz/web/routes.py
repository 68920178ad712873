"""HTTP routes (SERVER.md): the UI page, health, sessions, events, exports, recording.

Every route but ``/api/health`` and static files needs the token (``?token=``,
``Authorization: token ...`` or the page's cookie); state-changing routes
refuse the cookie alone. Errors are ``{"error": {"code", "message", "limit"}}``.
"""
import json
import os
from urllib.parse import quote

from flask import Blueprint, Response, current_app, jsonify, render_template_string, request
from flask import render_template, stream_with_context
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .limits import ApiError, LimitError, check_limit, check_payload
from .security import COOKIE, request_token, token_ok

bp = Blueprint("gradviz", __name__, root_path=os.path.dirname(os.path.abspath(__file__)))

FALLBACK_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>gradviz</title></head>
<body><h1>gradviz</h1><p>The server is running. Sessions:</p><ul id="s">
{% for s in sessions %}<li>{{ s.id }} ({{ s.source }}, {{ s.events }} events)</li>{% endfor %}
</ul></body></html>"""


def _server():
    return current_app.extensions["gradviz"]


def _version():
    try:
        from importlib.metadata import version
        return version("gradviz")
    except Exception:
        return "0.1.0"


@bp.before_request
def require_token():
    """Token on every route except health; state changes need more than the cookie."""
    if request.endpoint in ("gradviz.health",):
        return None
    expected = _server().config["token"]
    if expected is None:
        return None
    state_changing = request.method not in ("GET", "HEAD", "OPTIONS")
    if not token_ok(request_token(request, allow_cookie=not state_changing), expected):
        raise ApiError("BAD_TOKEN", "a valid token is required: open the URL that "
                                    "`gradviz serve` printed, or send Authorization: token ...",
                       status=401)
    return None


@bp.route("/")
def index():
    """The UI (the token from ?token= is also kept in a same-site cookie)."""
    srv = _server()
    tpl = os.path.join(current_app.template_folder, "index.html")
    if os.path.exists(tpl):
        resp = current_app.make_response(render_template("index.html"))
    else:
        resp = current_app.make_response(render_template_string(
            FALLBACK_PAGE, sessions=srv.manager.list()))
    tok = request.args.get("token")
    if tok and srv.config["token"] is not None:
        resp.set_cookie(COOKIE, tok, httponly=True, samesite="Strict")
    return resp


@bp.route("/api/health")
def health():
    """Liveness: ``{"ok": true, "version": ...}`` (no token, no data)."""
    return jsonify({"ok": True, "version": _version()})


@bp.route("/api/sessions")
def sessions():
    """Every session: id, events, created, source, live."""
    return jsonify(_server().manager.list())


@bp.route("/api/sessions/<sid>/events")
def events(sid):
    """``{"events": [...], "next": SEQ}`` after ``after``, at most ``limit``."""
    srv = _server()
    s = srv.manager.get(sid)
    after = request.args.get("after", "0")
    limit = request.args.get("limit", "1000")
    try:
        after, limit = max(0, int(after)), int(limit)
    except ValueError:
        raise ApiError("BAD_ARGUMENT", "'after' and 'limit' must be integers") from None
    if limit < 1:
        raise ApiError("BAD_ARGUMENT", "'limit' must be at least 1")
    after = min(after, s.last_seq)   # nothing lies beyond it (and seqs are 64-bit in SQLite)
    check_limit(limit, srv.limits, "max_page_events", "PAGE_TOO_LARGE", "limit")
    rows = srv.store.read_raw(s.id, after, limit)
    body = '{"events":[' + ",".join(b for _, b in rows) + '],"next":' + \
        str(rows[-1][0] if rows else after) + ',"last_seq":' + str(s.last_seq) + "}"
    return Response(body, mimetype="application/json")


@bp.route("/api/sessions/<sid>/snapshot")
def snapshot(sid):
    """``{"session", "upto_seq", "first_seq", "events"}``: the kept events reduced to what
    rebuilds the current state (``EventStore.snapshot_raw``), for a client whose offset is
    older than ``first_seq - 1`` (retention); continue with ``events?after=upto_seq``."""
    srv = _server()
    s = srv.manager.get(sid)
    upto, rows = srv.store.snapshot_raw(s.id)
    first = srv.store.first_seq(s.id)
    body = '{"session":' + json.dumps(s.id) + ',"upto_seq":' + str(upto) + \
        ',"first_seq":' + json.dumps(first) + ',"events":[' + ",".join(b for _, b in rows) + "]}"
    return Response(body, mimetype="application/json")


@bp.route("/api/sessions/<sid>/state")
def state(sid):
    """The session's step-gate state (null when nothing runs here)."""
    s = _server().manager.get(sid)
    return jsonify({"session": s.info(), "state": s.job.gate.state() if s.job else None})


@bp.route("/api/sessions/<sid>/command", methods=["POST"])
def command(sid):
    """``POST {action, ...}``: the same commands as the Socket.IO ``command`` event."""
    srv = _server()
    s = srv.manager.get(sid)
    try:
        data = request.get_json(silent=True)
    except RecursionError:   # `silent` only covers BadRequest, not a body nested too deep
        _too_deep(srv.limits)
    if isinstance(data, (dict, list)):
        check_payload(data if isinstance(data, dict) else {"_": data}, srv.limits, "command")
    if not isinstance(data, dict) or not isinstance(data.get("action"), str):
        raise ApiError("BAD_MESSAGE", "send a JSON object with an 'action'")
    return jsonify({"ok": True, "state": srv.control(s, data)})


@bp.route("/api/sessions/<sid>/graph.<fmt>")
def graph(sid, fmt):
    """The session's current graph as svg, png, dot or json."""
    from .export import export_graph
    srv = _server()
    s = srv.manager.get(sid)
    data, mimetype = export_graph(srv.store.tail(s.id, 50000), fmt)
    return Response(data, mimetype=mimetype)


@bp.route("/api/sessions/<sid>/recording")
def recording(sid):
    """The session's events as JSON lines (what ``gradviz replay`` reads)."""
    srv = _server()
    s = srv.manager.get(sid)

    def lines():
        for body in srv.store.iter_raw(s.id):
            yield body + "\n"

    return Response(stream_with_context(lines()), mimetype="application/x-ndjson",
                    headers={"Content-Disposition": content_disposition(s.id + ".jsonl")})


def content_disposition(filename):
    """``attachment`` with an ASCII fallback name and the exact one as RFC 6266
    ``filename*=UTF-8''...``, so any session id makes a valid, safe header."""
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_"
                       for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _too_deep(limits):
    depth = limits["max_json_depth"]
    raise LimitError("TOO_DEEP", f"the command body nests deeper than {depth} levels",
                     limit={"name": "max_json_depth", "value": depth})


def register_errors(app):
    """Structured JSON errors for ApiError, oversize bodies and every HTTP error."""

    @app.errorhandler(ApiError)
    def api_error(e):
        return jsonify(e.payload()), e.status

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(e):
        limit = app.config["MAX_CONTENT_LENGTH"]
        return jsonify({"error": {"code": "REQUEST_TOO_LARGE",
                                  "message": f"the request body is over {limit} bytes",
                                  "limit": {"name": "max_request_bytes", "value": limit}}}), 413

    @app.errorhandler(HTTPException)
    def http_error(e):
        return jsonify({"error": {"code": e.name.upper().replace(" ", "_"),
                                  "message": e.description}}), e.code

    @app.errorhandler(Exception)
    def internal(e):
        app.logger.exception("unhandled error")
        return jsonify({"error": {"code": "INTERNAL", "message": "internal server error"}}), 500
