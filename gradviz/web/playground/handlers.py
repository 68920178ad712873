"""The ``playground`` Socket.IO message: start a spec, or one of the playground's actions.

``playground {spec, paused?}`` validates the spec (``spec.validate``, which also
accepts the runner's older format) and trains it in a new session, paused before
its first step unless ``paused`` is false. ``playground {action, ...}``:

| action | fields | answer |
|---|---|---|
| ``validate`` | ``spec`` | ``{ok, spec}`` (clean, with ``shapes`` and ``params``), or
  ``{ok: false, error}`` (answered, not sent as an ``error`` message) |
| ``datasets`` | | ``{ok, datasets: [{name, label, available, reason, kind}], default}``
  (``default``: the builder's starting spec, the default session's model) |
| ``code`` | ``spec`` | ``{ok, code, spec}``: the equivalent Python script (or as validate) |
| ``step`` | ``session`` | run one training step, then pause (gate state) |
| ``feature_maps`` | ``session, sample`` | a ``feature_maps`` event follows |
| ``weights`` | ``session`` | ``{ok, filename, data}``: ``gv.save`` of the state_dict, base64 |
| ``run_code`` | ``code`` | ``{ok, session}``; a ``playground_output`` message when it ends |
| ``stop_code`` | ``session`` | ``{ok, stopped}`` |
| ``session`` | ``session`` | ``{ok, session, spec, drivable, status}``: the spec the session
  was started with (as sent; null if not a builder session), whether this server's job still
  runs it, and ``paused`` or its job status |

Every failure is an ``ApiError`` (``SpecError`` adds ``field``/``layer``).
"""
from ...errors import GradvizError
from ..limits import ApiError
from .spec import validate

ACTIONS = ("validate", "datasets", "code", "step", "feature_maps", "weights", "run_code",
           "stop_code", "session")


def start(server, spec, paused=True):
    """Validate ``spec`` and train it in a new playground session (stops the running job)."""
    from .job import PlaygroundJob
    clean = validate(spec, server.limits)           # errors before any session exists
    for s in list(server.manager.sessions.values()):  # one traced job per process
        if s.job is not None and s.job.alive():
            s.job.stop()
    prefix = f"{clean['kind'].lower()}-{clean['dataset']['name'].replace('_', '-')}"
    # "raw": the spec as the builder sent it, so a page that opens this session later
    # shows the same builder state (and knows whether Train resumes it or starts anew)
    session = server.manager.create("playground", prefix=prefix,
                                    meta={"title": clean["title"], "spec": clean,
                                          "raw": spec})
    job = PlaygroundJob(server.manager, session, clean, server.limits, paused=paused,
                        on_status=server.announce_status)
    session.job = job
    job.start()
    return session


def _job(server, data):
    sid = data.get("session")
    if not isinstance(sid, str) or not 0 < len(sid) <= 200:
        raise ApiError("BAD_MESSAGE", "'session' must be a session id string", status=400)
    s = server.manager.get(sid)
    job = s.job
    if job is None or not hasattr(job, "step_training"):
        raise ApiError("NOT_PLAYGROUND", f"session {sid!r} is not a playground job run by this "
                       "server", status=409)
    return job


def _session(server, data):
    """What the builder needs to show a playground session it did not start: the spec it was
    started with, whether this server's job still runs it, and where that job stands."""
    sid = data.get("session")
    if not isinstance(sid, str) or not 0 < len(sid) <= 200:
        raise ApiError("BAD_MESSAGE", "'session' must be a session id string", status=400)
    s = server.manager.get(sid)
    job = s.job
    drivable = job is not None and hasattr(job, "step_training") and job.alive()
    paused = drivable and job.gate.paused is not None
    return {"ok": True, "session": sid, "spec": s.meta.get("raw"), "drivable": drivable,
            "status": "paused" if paused else (s.status or "ended")}


def handle(server, data, reply_to=None):
    """Answer one ``playground`` message (see the module docstring)."""
    action = data.get("action")
    if action is None:
        spec = data.get("spec")
        if not isinstance(spec, dict):
            raise ApiError("BAD_SPEC", "playground needs a 'spec' object (layers, dataset, ...)")
        s = start(server, spec, paused=data.get("paused", True) is not False)
        return {"ok": True, "session": s.id, "spec": s.meta.get("spec")}
    if action not in ACTIONS:
        raise ApiError("BAD_ACTION", f"playground action must be one of {', '.join(ACTIONS)}")
    try:
        return _act(server, action, data, reply_to)
    except ApiError:
        raise
    except GradvizError as e:
        raise ApiError("PLAYGROUND", str(e)) from None


def _act(server, action, data, reply_to):
    if action in ("validate", "code"):   # answered, not raised: no error toast per keystroke
        try:
            clean = validate(data.get("spec"), server.limits)
        except ApiError as e:
            return dict(e.payload(), ok=False)
        if action == "validate":
            return {"ok": True, "spec": clean}
        from .codegen import script
        return {"ok": True, "code": script(clean), "spec": clean}
    if action == "datasets":
        from .build import available_datasets
        from .spec import default_spec
        return {"ok": True, "datasets": available_datasets(), "default": default_spec()}
    if action == "run_code":
        from .codemode import run_code
        return {"ok": True, "session": run_code(server, data.get("code"), reply_to)}
    if action == "stop_code":
        from .codemode import stop_code
        return {"ok": True, "stopped": stop_code(data.get("session"))}
    if action == "session":
        return _session(server, data)
    job = _job(server, data)
    if action == "step":
        return {"ok": True, "state": job.step_training()}
    if action == "feature_maps":
        sample = data.get("sample", 0)
        if not isinstance(sample, int) or isinstance(sample, bool):
            raise ApiError("BAD_MESSAGE", "'sample' must be an integer", status=400)
        job.request_feature_maps(sample)
        return {"ok": True}
    name = job.session.id
    return {"ok": True, "filename": f"{name}.gvz", "data": job.weights()}
