"""Limits on what a client may ask of the server, and the structured errors naming them.

Every limit is checked before anything is allocated; going over one answers
``{"error": {"code", "message", "limit"}}`` (HTTP 4xx or a Socket.IO ``error``)
and the server stays up (SECURITY.md, promise 4).
"""
from ..errors import GradvizError

DEFAULT_LIMITS = {
    "max_request_bytes": 16 * 1024 * 1024,   # HTTP bodies (MAX_CONTENT_LENGTH)
    "max_message_bytes": 16 * 1024 * 1024,   # one Socket.IO message (engine.io buffer)
    "max_batch_events": 10000,               # events in one `produce`
    "max_event_bytes": 1024 * 1024,          # one serialized event
    "max_json_depth": 32,                    # nesting of any client payload
    "max_page_events": 10000,                # events per HTTP page
    "max_tensor_bytes": 8 * 1024 * 1024,     # full values sent on demand
    "max_layers": 32,                        # layers in a model spec
    "max_width": 1024,                       # units of one layer
    "max_params": 2_000_000,                 # parameters of a model spec
    "max_samples": 20000,                    # dataset size in a spec
    "max_steps": 100_000,                    # training steps of a job
    "max_job_seconds": 3600.0,               # running (not paused) time of a job
    "keep_value_bytes": 64 * 1024 * 1024,    # arrays a server job keeps for `tensor`
    "max_sessions_listed": 1000,
}


class ApiError(GradvizError):
    """A client error with a stable code, sent as ``{"error": {...}}``."""

    status = 400

    def __init__(self, code, message, limit=None, status=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.limit = limit
        if status is not None:
            self.status = status

    def payload(self):
        """The JSON body: ``{"error": {"code", "message", "limit"}}``."""
        err = {"code": self.code, "message": self.message}
        if self.limit is not None:
            err["limit"] = self.limit
        return {"error": err}


class LimitError(ApiError):
    """A request over one of the server's limits (413-like)."""

    status = 413


def check_limit(value, limits, name, code, what):
    """Raise ``LimitError`` naming ``name`` when ``value`` exceeds ``limits[name]``."""
    limit = limits[name]
    if value > limit:
        raise LimitError(code, f"{what} is {value}, over the server's limit of {limit} "
                               f"({name})", limit={"name": name, "value": limit})


def json_depth_ok(obj, max_depth):
    """True when ``obj`` nests at most ``max_depth`` containers (iterative, no recursion)."""
    stack = [(obj, 1)]
    while stack:
        o, d = stack.pop()
        if isinstance(o, dict):
            if d > max_depth:
                return False
            stack.extend((v, d + 1) for v in o.values())
        elif isinstance(o, list):
            if d > max_depth:
                return False
            stack.extend((v, d + 1) for v in o)
    return True


def check_payload(data, limits, kind="object"):
    """A Socket.IO payload must be an object of bounded depth; returns it."""
    if not isinstance(data, dict):
        raise ApiError("BAD_MESSAGE", f"expected a JSON object for {kind}, "
                                      f"got {type(data).__name__}")
    if not json_depth_ok(data, limits["max_json_depth"]):
        raise LimitError("TOO_DEEP", f"the {kind} message nests deeper than "
                                     f"{limits['max_json_depth']} levels",
                         limit={"name": "max_json_depth", "value": limits["max_json_depth"]})
    return data
