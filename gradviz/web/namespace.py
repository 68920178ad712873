"""The Socket.IO namespace: viewers join, command and inspect; producers send events.

Every handler takes its payload defensively (any JSON, any arity) and answers
a structured error instead of raising, so a malformed message never drops the
connection or touches other clients (SECURITY.md, promise 5).
"""
import functools
import logging

from flask import request
from flask_socketio import Namespace, join_room, leave_room

from ..trace.gate import ACTIONS
from ..trace.summary import jvalues, stats, to_host
from .limits import ApiError, LimitError, check_payload
from .security import token_ok

log = logging.getLogger("gradviz.web")

VIEWERS = "viewers"   # the room of every client with the viewer token
# an attached process gone without its `bye`: what the page says after "process ended"
NO_BYE = "without a goodbye (killed, or its connection to the server dropped)"


def handler(role):
    """Wrap a namespace handler: role check, payload check, structured errors."""
    def wrap(fn):
        @functools.wraps(fn)
        def inner(self, *args):
            try:
                client = self.gv.clients.get(request.sid)
                if client is None or role not in client["roles"]:
                    raise ApiError("FORBIDDEN", f"this connection may not send "
                                                f"'{fn.__name__[3:]}' (needs {role} rights)",
                                   status=403)
                data = args[0] if args else None
                data = check_payload(data, self.gv.limits, fn.__name__[3:])
                return fn(self, data)
            except ApiError as e:
                return self._fail(e.payload())
            except Exception:
                log.exception("handler %s failed", fn.__name__)
                return self._fail({"error": {"code": "INTERNAL",
                                             "message": "the server could not handle this "
                                                        "message (see its log)"}})
        return inner
    return wrap


def _session_arg(data):
    sid = data.get("session")
    if not isinstance(sid, str) or not 0 < len(sid) <= 200:
        raise ApiError("BAD_MESSAGE", "'session' must be a session id string")
    return sid


def _new_session_arg(data):
    """A session id a producer may create: one URL path segment, printable."""
    sid = _session_arg(data)
    if sid.strip(".") == "" or any(c in "/\\" or ord(c) < 32 or ord(c) == 127 for c in sid):
        raise ApiError("BAD_SESSION_ID", f"session id {sid[:60]!r} cannot be used: it must "
                                         "not contain '/', '\\' or control characters, nor "
                                         "be made of dots only (the HTTP API could not reach it)")
    return sid


class GradvizNamespace(Namespace):
    """Namespace ``/`` of ``gradviz serve``."""

    def __init__(self, namespace, server):
        super().__init__(namespace)
        self.gv = server

    def _fail(self, payload):
        try:
            self.emit("error", payload["error"], room=request.sid)
        except Exception:
            pass
        return payload

    def trigger_event(self, event, *args):
        """Dispatch to ``on_<event>``; an unknown message type gets a structured error."""
        if event not in ("connect", "disconnect") and not callable(
                getattr(self, "on_" + str(event), None)):
            # Flask-SocketIO would drop it silently; answer inside the request context instead
            return self.socketio._handle_event(functools.partial(self._unknown, str(event)),
                                               event, self.namespace, *args)
        return super().trigger_event(event, *args)

    def _unknown(self, name, *args):
        if self.gv.clients.get(request.sid) is None:
            return None  # not authenticated: say nothing
        return self._fail({"error": {"code": "UNKNOWN_EVENT",
                                     "message": f"unknown message type '{name[:60]}'; this "
                                                "server understands join, leave, command, "
                                                "breakpoint, tensor, playground, hello, "
                                                "produce, bye"}})

    # ---- connection -------------------------------------------------------------------
    def on_connect(self, auth=None):
        """Check the token in ``auth``; a viewer token also allows producing."""
        cfg = self.gv.config
        tok = auth.get("token") if isinstance(auth, dict) else None
        roles = set()
        if cfg["token"] is None or token_ok(tok, cfg["token"]):
            roles = {"viewer", "producer"}
        elif cfg["producer_token"] is not None and token_ok(tok, cfg["producer_token"]):
            roles = {"producer"}
        if not roles:
            raise ConnectionRefusedError({"code": "BAD_TOKEN",
                                          "message": "a valid token is required (auth={token})"})
        self.gv.clients[request.sid] = {"roles": roles, "producing": set()}
        if "viewer" in roles:
            join_room(VIEWERS)   # server-wide news (`status`) goes to viewers only
        return True

    def on_disconnect(self, reason=None):
        """Forget the client's feeds; an attached session loses its producer."""
        client = self.gv.clients.pop(request.sid, None)
        self.gv.fanout.leave(request.sid)
        if client:
            for sid in client["producing"]:
                s = self.gv.manager.sessions.get(sid)
                if s is not None:
                    s.producers = max(0, s.producers - 1)
                    if not s.producers:   # its process exited (or lost the connection)
                        # how, when its `bye` said (the page shows "process ended: <how>");
                        # no `bye` at all: killed (SIGKILL, os._exit) or the link dropped
                        how = NO_BYE if s.exit is None else s.exit if s.exit != "ok" else None
                        self.gv.announce_status(s, "ended", how)

    # ---- viewers ----------------------------------------------------------------------
    @handler("viewer")
    def on_join(self, data):
        """``join {session, after, raw?}``: stored events after ``after``, then live ones
        (``raw: true``: each ``events`` batch is one string, the JSON text of the array)."""
        s = self.gv.manager.get(_session_arg(data))
        after = data.get("after", 0)
        if after is None:
            after = 0
        if isinstance(after, bool) or not isinstance(after, int):
            raise ApiError("BAD_MESSAGE", "'after' must be an integer seq")
        # below 0 means "from the start" (older pages send -1); past the last seq there is
        # nothing to wait for, and clamping keeps the store's 64-bit seq column safe from a
        # huge offset (one feed must not break all)
        after = min(max(0, after), s.last_seq)
        self.gv.fanout.join(request.sid, s.id, after, raw=data.get("raw") is True)
        join_room("session:" + s.id)
        state = s.job.gate.state() if s.job is not None else None
        if state is None and s.source == "attached" and s.producers:
            # its process holds the gate: ask it, so a reloaded page or a second tab shows
            # (and can remove) the breakpoints set from another page
            state = self.gv.producer_command(s, {"action": "state"}, quiet=True)
        return {"ok": True, "session": s.info(), "state": state}

    @handler("viewer")
    def on_leave(self, data):
        """Stop following a session."""
        sid = _session_arg(data)
        self.gv.fanout.leave(request.sid, sid)
        leave_room("session:" + sid)
        return {"ok": True}

    @handler("viewer")
    def on_command(self, data):
        """``command {session, action}``: drive the session's step gate."""
        s = self.gv.manager.get(_session_arg(data))
        action = data.get("action")
        if action not in ACTIONS:
            raise ApiError("BAD_ACTION", f"action must be one of {ACTIONS}")
        return {"ok": True, "state": self.gv.control(s, {"action": action})}

    @handler("viewer")
    def on_breakpoint(self, data):
        """``breakpoint {session, node|op, when, threshold, phase}``; ``remove: id`` or
        ``clear``. ``phase``: ``"forward"`` or ``"backward"`` only (absent: both). Every page
        viewing the session then gets its breakpoints (``Server.announce_breakpoints``)."""
        s = self.gv.manager.get(_session_arg(data))
        msg = {k: v for k, v in data.items() if k != "session"}
        msg["action"] = "breakpoint"
        state = self.gv.control(s, msg)
        self.gv.announce_breakpoints(s, state)
        return {"ok": True, "state": state}

    @handler("viewer")
    def on_tensor(self, data):
        """``tensor {session, node, what}``: full values of a kept array, within limits (an
        attached session's producer is asked over its socket: ``Server.remote_tensor``)."""
        s = self.gv.manager.get(_session_arg(data))
        node, what = data.get("node"), data.get("what", "value")
        if not isinstance(node, int) or isinstance(node, bool) or what not in ("value", "grad"):
            raise ApiError("BAD_MESSAGE", "tensor needs an integer 'node' and "
                                          "'what': 'value' or 'grad'")
        if s.job is None and s.source == "attached":
            msg = self.gv.remote_tensor(s, node, what)   # asks the producer, checks limits
            self.emit("tensor", msg, room=request.sid)
            return msg
        arr = s.job.tensor(node, what) if s.job is not None else None
        if arr is None:
            raise ApiError("NOT_AVAILABLE", f"the {what} of node {node} is not kept by the "
                                            "server (only a server-run job's recent nodes are)",
                           status=404)
        limit = self.gv.limits["max_tensor_bytes"]
        nbytes = int(arr.size) * 8
        if nbytes > limit:
            raise LimitError("TENSOR_TOO_LARGE", f"node {node} has {arr.size} elements "
                             f"({nbytes} bytes as JSON numbers), over the limit of {limit}",
                             limit={"name": "max_tensor_bytes", "value": limit})
        a = to_host(arr)
        msg = {"session": s.id, "node": node, "what": what, "shape": list(a.shape),
               "dtype": str(a.dtype), "stats": stats(a), "values": jvalues(a)}
        self.emit("tensor", msg, room=request.sid)
        return msg

    @handler("viewer")
    def on_playground(self, data):
        """``playground {spec}`` or ``{action, ...}``: see ``gradviz.web.playground.handlers``."""
        from .playground.handlers import handle
        return handle(self.gv, data, reply_to=request.sid)

    # ---- producers (gv.attach) -------------------------------------------------------------
    @handler("producer")
    def on_hello(self, data):
        """``hello {session?, title?}``: open (or reopen) an attached session."""
        sid = data.get("session")
        if sid is not None:
            sid = _new_session_arg(data)
            existing = self.gv.manager.sessions.get(sid)
            if existing is not None and existing.source != "attached":
                raise ApiError("SESSION_TAKEN", f"session {sid!r} is a {existing.source} "
                                                "session; choose another name")
        title = data.get("title") if isinstance(data.get("title"), str) else None
        s = self.gv.manager.create("attached", sid=sid, prefix="attached",
                                       meta={"title": title[:100]} if title else None)
        client = self.gv.clients[request.sid]
        if s.id not in client["producing"]:
            client["producing"].add(s.id)
            s.producers += 1
            if s.producers == 1:
                s.exit = None   # a new process: the last one's ending no longer applies
                self.gv.announce_status(s, "attached")
        join_room("producer:" + s.id)
        # lines_bytes: `produce {lines}` may be UTF-8 bytes (a binary attachment);
        # max_message_bytes: engine.io closes a connection that sends a larger message
        return {"ok": True, "session": s.id, "last_seq": s.last_seq, "lines_bytes": True,
                "max_message_bytes": self.gv.limits["max_message_bytes"]}

    @handler("producer")
    def on_bye(self, data):
        """``bye {session, exit}``: the producer's process is ending; ``exit`` says how
        (``"ok"``, ``"error: ValueError"``, ``"interrupted"``, ``"terminated"``), shown as
        the session's ``exit`` in the listing once its producer disconnects."""
        sid = _session_arg(data)
        if sid not in self.gv.clients[request.sid]["producing"]:
            raise ApiError("NOT_PRODUCING", "send 'hello' for this session before 'bye'")
        exit_ = data.get("exit")
        if not isinstance(exit_, str) or not 0 < len(exit_) <= 200:
            raise ApiError("BAD_MESSAGE", "'exit' must be a short string")
        self.gv.manager.get(sid).exit = exit_
        return {"ok": True}

    @handler("producer")
    def on_produce(self, data):
        """``produce {session, events | lines, after?}``: store new events, then acknowledge
        the last seq. ``lines``: the events as JSON lines (one object per line, decoded
        once, stored as sent; a string, or UTF-8 bytes as a binary attachment).
        ``after``: the seq this batch follows; with several batches in flight the
        server stores them in that order (``OUT_OF_ORDER`` when the one before never
        came: send again from the last acknowledged seq)."""
        sid = _session_arg(data)
        client = self.gv.clients[request.sid]
        if sid not in client["producing"]:
            raise ApiError("NOT_PRODUCING", "send 'hello' for this session before 'produce'")
        s = self.gv.manager.get(sid)
        after = data.get("after")
        if after is not None and not (isinstance(after, int) and not isinstance(after, bool)):
            raise ApiError("BAD_MESSAGE", "'after' must be an integer seq")
        if after is not None and not self.gv.manager.wait_for_seq(s, after):
            return {"ok": False, "last_seq": s.last_seq,
                    "error": {"code": "OUT_OF_ORDER", "message": f"the events up to seq {after} "
                              "have not arrived; send again from the last acknowledged seq"}}
        if "lines" in data:
            last = self.gv.manager.ingest_lines(s, data["lines"])
        else:
            events = data.get("events")
            if not isinstance(events, list):
                raise ApiError("BAD_MESSAGE", "'events' must be a list (or 'lines' a string)")
            last = self.gv.manager.ingest_produced(s, events)
        return {"ok": True, "last_seq": last}
