"""The application factory and the server state behind it (SERVER.md).

``create_app(config)`` builds the Flask app, binds the module-level
``socketio`` to it (threading mode), wraps everything in the Host/Origin guard
and attaches a ``Server``: the store, the sessions, the fan-out pump and, with
``message_queue``, the Redis bridge. ``app.extensions["gradviz"].start()``
starts the background work (``gradviz serve`` and the test fixtures call it);
``stop()`` ends it and flushes the store.
"""
import logging
import math
import os
import threading

from flask import Flask
from flask_socketio import SocketIO

from ..errors import GradvizError
from ..trace.pipeline import BATCH_MAX, FEED_MAX_EVENTS, Fanout
from ..trace.store import EventStore, default_store_path
from .limits import DEFAULT_LIMITS, ApiError, LimitError
from .namespace import VIEWERS
from .security import allowed_hosts, is_wildcard, new_token, Guard, same_origin
from .sessions import SessionManager

PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
log = logging.getLogger("gradviz.web")
REMOTE_TENSOR_TIMEOUT = 10.0   # seconds an attached process has to answer a `tensor` request
PRODUCER_COMMAND_TIMEOUT = 3.0   # seconds an attached process has to answer a gate command

socketio = SocketIO()

DEFAULTS = {
    "host": "127.0.0.1",
    "port": 5000,
    "token": "auto",             # "auto": a fresh random token; None: no token (explicit)
    "producer_token": None,      # a second token that may only produce events
    "allowed_hosts": (),
    "store": None,               # path, an EventStore, or None for the user data dir
    "retention": None,           # events kept per session (None: all)
    "message_queue": None,       # redis://... for several server processes
    "default_session": True,     # start the default MLP-on-spiral session
    "feed_max_events": FEED_MAX_EVENTS,
    "batch_max": BATCH_MAX,
    "send_window": 2,            # engine.io packets queued for a client before we hold back
}


def make_config(config=None):
    """Defaults overlaid with ``config``; limits merged key by key."""
    cfg = dict(DEFAULTS)
    cfg.update(config or {})
    limits = dict(DEFAULT_LIMITS)
    limits.update(cfg.get("limits") or {})
    cfg["limits"] = limits
    if cfg["token"] == "auto":
        cfg["token"] = new_token()
    return cfg


class Server:
    """Everything one ``gradviz serve`` process holds besides Flask itself."""

    def __init__(self, app, config):
        self.app = app
        self.config = config
        self.limits = config["limits"]
        self.socketio = socketio
        store = config["store"]
        self.store = store if isinstance(store, EventStore) else \
            EventStore(store or default_store_path(), retention=config["retention"])
        self.fanout = Fanout(self._emit, self._can_send, self._catch_up,
                             batch_max=config["batch_max"],
                             feed_max=config["feed_max_events"], snapshot=self._snapshot)
        self.bridge = None
        if config["message_queue"]:
            from .scaleout import RedisBridge
            self.bridge = RedisBridge(config["message_queue"], self)
        self.manager = SessionManager(self.store, self.fanout, self.limits,
                                      self.bridge.publish if self.bridge else None)
        self.clients = {}            # sid -> {"roles": set, "producing": set of sessions}
        self.pump = None
        self.started = False
        self.stopping = False
        self.lock = threading.Lock()

    # ---- lifecycle --------------------------------------------------------------------
    def start(self):
        """Start the fan-out pump, the Redis bridge and the default session."""
        if self.started:
            return self
        self.started = True
        self.pump = self.socketio.start_background_task(
            self.fanout.run, self.manager.lock_of, self.manager.last_seq_of, self.socketio.sleep)
        if self.bridge is not None:
            self.bridge.start()
        if self.config["default_session"]:
            # the builder's starting model, so the Playground tab drives the same session
            from .playground.handlers import start as start_playground
            from .playground.spec import default_spec
            start_playground(self, default_spec(), paused=True)
        return self

    def stop(self):
        """Stop jobs, the pump and the bridge; flush and close the store (idempotent)."""
        if self.stopping:
            return
        self.stopping = True
        for s in list(self.manager.sessions.values()):
            if s.job is not None:
                s.job.stop()
        self.fanout.stop()
        if self.pump is not None:
            self.pump.join(5)
        if self.bridge is not None:
            self.bridge.stop()
        self.store.close()

    # ---- jobs -------------------------------------------------------------------------
    def start_job(self, spec, paused=True):
        """Create a playground session running ``spec`` (None: the default model)."""
        from .runner import DEFAULT_SPEC, Job
        spec = DEFAULT_SPEC if spec is None else spec
        from .spec import validate_spec
        clean = validate_spec(spec, self.limits)         # errors before any session exists
        for s in list(self.manager.sessions.values()):  # one traced job per process
            if s.job is not None and s.job.alive():
                s.job.stop()
        prefix = "mlp-" + clean["dataset"]["name"]
        session = self.manager.create("playground", prefix=prefix, meta={"title": clean["title"],
                                                                         "spec": clean})
        job = Job(self.manager, session, clean, self.limits, paused=paused,
                  on_status=self.announce_status)
        session.job = job
        job.start()
        return session

    def announce_status(self, session, status, message=None):
        """Keep ``status`` on the session (a viewer that joins later gets it) and tell the
        viewers now: a job's ready/running/done/stopped/error, a producer's attached/ended."""
        session.set_status(status, message)
        payload = {"session": session.id, "status": status, "message": message}
        try:
            self.socketio.emit("status", payload, to=VIEWERS)
        except Exception:  # no clients or a closing server
            pass

    def announce_breakpoints(self, session, state):
        """Send ``breakpoints {session, breakpoints}`` to every page viewing ``session``
        (its room), from the gate ``state`` a breakpoint change answered (a playground
        job's gate, or an attached process's in its ack): a breakpoint added or removed in
        one tab shows in the others. Nothing when the state is unknown (no ack)."""
        bps = state.get("breakpoints") if isinstance(state, dict) else None
        if not isinstance(bps, list):
            return
        try:
            self.socketio.emit("breakpoints", {"session": session.id, "breakpoints": bps},
                               to="session:" + session.id)
        except Exception:  # no clients or a closing server
            pass

    # ---- debugger commands -----------------------------------------------------------
    def control(self, session, msg, remote=False):
        """Route a gate command to where the session runs; returns the gate state if local."""
        if session.job is not None:
            return apply_command(session.job.gate, msg)
        if session.source == "attached":
            if not session.producers and self.bridge is None:
                # nobody would ever act on it (with a bridge, another server may hold it)
                raise ApiError("NOT_CONTROLLABLE", f"session {session.id!r} has no connected "
                               "producer: its process has ended", status=409)
            return self.producer_command(session, msg)
        if session.source == "playground" and self.bridge is not None and not remote:
            self.bridge.publish_command(session.id, msg)
            return None
        raise ApiError("NOT_CONTROLLABLE", f"session {session.id!r} ({session.source}) has no "
                                           "running computation to control", status=409)

    def producer_command(self, session, msg, timeout=PRODUCER_COMMAND_TIMEOUT, quiet=False):
        """Send a gate command to an attached session's process; returns the gate state
        its ack carries (None from a producer that does not answer, or one reached only
        through another server). Without the state a page never learnt its breakpoints'
        ids (removing one did nothing) nor, after a reload, which were set. ``quiet``: a
        question only (``{"action": "state"}``), never sent without waiting for its answer."""
        sids = [c_sid for c_sid, c in list(self.clients.items())
                if session.id in c["producing"]]
        if len(sids) != 1:   # none here (a bridge may reach it) or several: tell them all
            if not quiet:
                self.socketio.emit("command", msg, to="producer:" + session.id)
            return None
        try:
            r = self.socketio.call("command", msg, to=sids[0], timeout=timeout)
        except RuntimeError:   # no acks in this set-up (async_handlers off): send it plainly
            if not quiet:
                self.socketio.emit("command", msg, to="producer:" + session.id)
            return None
        except Exception:   # TimeoutError (an older producer), or it went away meanwhile
            return None
        if isinstance(r, dict) and isinstance(r.get("error"), dict):
            code = "BAD_BREAKPOINT" if msg.get("action") == "breakpoint" else "BAD_ACTION"
            raise ApiError(code, str(r["error"].get("message", "the process refused it")))
        return r if isinstance(r, dict) else None

    # ---- full values from an attached process ---------------------------------------
    def remote_tensor(self, session, node, what, timeout=REMOTE_TENSOR_TIMEOUT):
        """Ask the producer of an attached session for a node's full values
        (``tensor_request {node, what, max_elements, max_bytes}``, answered in its ack);
        returns the viewer's ``tensor`` message or raises ApiError."""
        sid = next((c_sid for c_sid, c in list(self.clients.items())
                    if session.id in c["producing"]), None)
        if sid is None:
            raise ApiError("NOT_AVAILABLE", f"session {session.id!r} has no connected "
                           "producer: its process ended or is attached to another server",
                           status=404)
        limit = self.limits["max_tensor_bytes"]
        max_bytes = max(0, self.limits["max_message_bytes"] - 65536)
        try:
            r = self.socketio.call("tensor_request", {"session": session.id, "node": node,
                                                      "what": what, "max_elements": limit // 8,
                                                      "max_bytes": max_bytes},
                                   to=sid, timeout=timeout)
        except Exception as e:   # TimeoutError, or the producer went away meanwhile
            raise ApiError("NOT_AVAILABLE", f"the attached process did not answer for node "
                           f"{node} ({type(e).__name__}); it may have ended", status=404) from None
        if not isinstance(r, dict):
            raise ApiError("NOT_AVAILABLE", "the attached process cannot send full values "
                           "(an older gradviz?)", status=404)
        if not r.get("ok"):
            err = r.get("error") if isinstance(r.get("error"), dict) else {}
            code = err.get("code") if err.get("code") in ("NOT_AVAILABLE", "TENSOR_TOO_LARGE") \
                else "NOT_AVAILABLE"
            message = str(err.get("message") or "the attached process refused")[:500]
            if code == "TENSOR_TOO_LARGE":
                raise LimitError(code, message, limit={"name": "max_tensor_bytes", "value": limit})
            raise ApiError(code, message, status=404)
        shape = r.get("shape")
        if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool)
                                                  and d >= 0 for d in shape):
            raise ApiError("NOT_AVAILABLE", "the attached process sent a malformed answer",
                           status=502)
        size = math.prod(shape)
        if size * 8 > limit:
            raise LimitError("TENSOR_TOO_LARGE", f"node {node} has {size} elements "
                             f"({size * 8} bytes as JSON numbers), over the limit of {limit}",
                             limit={"name": "max_tensor_bytes", "value": limit})
        return {"session": session.id, "node": node, "what": what, "shape": shape,
                "dtype": str(r.get("dtype"))[:32], "stats": r.get("stats"),
                "values": r.get("values"), "source": "producer"}

    # ---- fan-out plumbing -------------------------------------------------------------
    def _emit(self, sid, name, payload):
        self.socketio.emit(name, payload, to=sid)

    def _can_send(self, sid):
        try:
            srv = self.socketio.server
            eio_sid = srv.manager.eio_sid_from_sid(sid, "/")
            sock = srv.eio.sockets.get(eio_sid) if eio_sid else None
        except Exception:
            return True
        if sock is None:
            return True
        return sock.queue.qsize() < self.config["send_window"]

    def _catch_up(self, session, after, limit):
        return self.store.read_raw(session, after, limit)

    def _snapshot(self, session, after):
        """A snapshot for a viewer whose offset ``after`` is older than retention, else None."""
        if not self.store.retention:
            return None
        first = self.store.first_seq(session)
        if first is None or after >= first - 1:
            return None
        return self.store.snapshot_raw(session)


def apply_command(gate, msg):
    """Apply ``{action, ...}`` (a gate action or ``breakpoint``) to a step gate."""
    try:
        return gate.apply(msg)
    except GradvizError as e:
        code = "BAD_BREAKPOINT" if msg.get("action") == "breakpoint" else "BAD_ACTION"
        raise ApiError(code, str(e)) from None


def create_app(config=None):
    """The Flask app serving the UI, the HTTP API and Socket.IO (not yet started)."""
    cfg = make_config(config)
    app = Flask("gradviz", root_path=PKG_DIR, instance_path=os.path.join(PKG_DIR, "instance"),
                static_folder=os.path.join(PKG_DIR, "static"),
                template_folder=os.path.join(PKG_DIR, "templates"))
    app.config["MAX_CONTENT_LENGTH"] = cfg["limits"]["max_request_bytes"]
    app.config["GRADVIZ"] = cfg
    hosts = allowed_hosts(cfg["host"], cfg["allowed_hosts"])

    def origin_ok(origin, environ=None):
        return origin is None or (environ is not None and same_origin(origin, environ))

    socketio.namespace_handlers = []     # a new app replaces the previous one's handlers
    socketio.init_app(app, async_mode="threading", cors_allowed_origins=origin_ok,
                      max_http_buffer_size=cfg["limits"]["max_message_bytes"],
                      message_queue=cfg["message_queue"], manage_session=False)
    server = Server(app, cfg)
    app.extensions["gradviz"] = server
    from .namespace import GradvizNamespace
    from .routes import bp, register_errors
    app.register_blueprint(bp)
    register_errors(app)
    socketio.on_namespace(GradvizNamespace("/", server))
    app.wsgi_app = Guard(app.wsgi_app, hosts, local_ips=is_wildcard(cfg["host"]))
    return app


__all__ = ["create_app", "socketio", "Server", "ApiError", "make_config"]
