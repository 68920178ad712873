"""Code mode: run a user's Python in a separate, limited process attached to a session.

Only when the server requires a token (code mode runs arbitrary code as the
server's user, as a Jupyter kernel does). The child gets CPU-time, address-space,
file-size and process-count limits (``resource.setrlimit``), a wall-clock limit,
a fresh temporary working directory, and the server's token only through its
environment; it streams its events with ``gv.attach`` into a new session. Its
output (bounded) comes back to the browser as a ``playground_output`` message.
"""
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading

from ..limits import ApiError, LimitError

CODE_LIMITS = {"max_code_bytes": 100_000, "code_cpu_seconds": 120, "code_memory_bytes": 3 << 30,
               "code_wall_seconds": 300, "code_output_bytes": 64_000}

# First thing in the child, before any import of user code: its own limits (no preexec_fn,
# which is unsafe in the threaded server).
PRELUDE = '''import os, resource
_cpu, _mem = int(os.environ.pop("GRADVIZ_CPU_SECONDS")), int(os.environ.pop("GRADVIZ_MEMORY_BYTES"))
resource.setrlimit(resource.RLIMIT_CPU, (_cpu, _cpu + 5))
resource.setrlimit(resource.RLIMIT_AS, (_mem, _mem))
resource.setrlimit(resource.RLIMIT_FSIZE, (64 << 20, 64 << 20))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
'''

WRAPPER = PRELUDE + '''import gradviz as gv
_att = gv.attach(os.environ["GRADVIZ_URL"], token=os.environ.pop("GRADVIZ_TOKEN"),
                 session=os.environ["GRADVIZ_SESSION"], title="code mode")
_src = open("user_code.py", encoding="utf-8").read()
try:
    exec(compile(_src, "<playground code>", "exec"), {"__name__": "__main__", "gv": gv})
finally:
    _att.close()
'''

RUNNING = {}   # session id -> Popen


def _lim(limits, name):
    return limits.get(name, CODE_LIMITS[name])


def run_code(server, code, reply_to):
    """Start ``code`` in a limited child attached to a new session; returns the session id."""
    cfg, limits = server.config, server.limits
    if cfg["token"] is None:
        raise ApiError("CODE_MODE_DISABLED", "code mode runs Python on the server's machine, so "
                       "it is only available when the server requires a token; this server was "
                       "started with --no-token", status=403)
    if not isinstance(code, str) or not code.strip():
        raise ApiError("BAD_CODE", "code must be a non-empty string of Python")
    size = len(code.encode("utf-8"))
    cap = _lim(limits, "max_code_bytes")
    if size > cap:
        raise LimitError("CODE_TOO_LARGE", f"the code is {size} bytes, over the server's limit "
                         f"of {cap} (max_code_bytes)", limit={"name": "max_code_bytes",
                                                               "value": cap})
    try:
        compile(code, "<playground code>", "exec")
    except SyntaxError as e:
        raise ApiError("SYNTAX_ERROR", f"line {e.lineno}: {e.msg}") from None
    sid = f"code-{secrets.token_hex(3)}"
    work = tempfile.mkdtemp(prefix="gradviz-code-")
    with open(os.path.join(work, "user_code.py"), "w", encoding="utf-8") as f:
        f.write(code)
    with open(os.path.join(work, "wrapper.py"), "w", encoding="utf-8") as f:
        f.write(WRAPPER)
    host = cfg.get("host") or "127.0.0.1"
    host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": work,
           "PYTHONPATH": root, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1",
           "GRADVIZ_URL": f"http://{host}:{cfg['port']}", "GRADVIZ_TOKEN": cfg["token"],
           "GRADVIZ_SESSION": sid,
           "GRADVIZ_CPU_SECONDS": str(int(_lim(limits, "code_cpu_seconds"))),
           "GRADVIZ_MEMORY_BYTES": str(int(_lim(limits, "code_memory_bytes")))}
    proc = subprocess.Popen([sys.executable, "wrapper.py"], cwd=work, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    RUNNING[sid] = proc
    threading.Thread(target=_watch, args=(server, proc, sid, reply_to, limits, work),
                     daemon=True, name=f"gradviz-code-{sid}").start()
    return sid


def stop_code(sid):
    """Kill a running code-mode process; False if there is none."""
    proc = RUNNING.get(sid)
    if proc is None or proc.poll() is not None:
        return False
    proc.kill()
    return True


def _watch(server, proc, sid, reply_to, limits, work):
    cap = int(_lim(limits, "code_output_bytes"))
    chunks, total, timed_out = [], 0, False
    timer = threading.Timer(_lim(limits, "code_wall_seconds"), proc.kill)
    timer.start()
    try:
        for line in iter(proc.stdout.readline, b""):
            if total < cap:
                chunks.append(line[:cap - total])
            total += len(line)
        rc = proc.wait()
        timed_out = not timer.is_alive() and rc < 0
    finally:
        timer.cancel()
        proc.stdout.close()
        RUNNING.pop(sid, None)
        try:
            import shutil
            shutil.rmtree(work, ignore_errors=True)
        except Exception:
            pass
    out = b"".join(chunks).decode("utf-8", "replace")
    if total > cap:
        out += f"\n… ({total - cap} more bytes of output not shown)"
    if rc == 0:
        msg = "finished"
    elif timed_out:
        msg = f"stopped: the wall-clock limit ({_lim(limits, 'code_wall_seconds')} s) was reached"
    elif rc == -signal.SIGXCPU:
        msg = f"stopped: the CPU-time limit ({_lim(limits, 'code_cpu_seconds')} s) was reached"
    elif rc == -signal.SIGKILL:
        msg = "stopped"
    elif "MemoryError" in out:
        msg = "failed: the memory limit was reached (MemoryError)"
    else:
        msg = f"failed with exit code {rc}"
    try:
        server.socketio.emit("playground_output", {"session": sid, "rc": rc, "output": out,
                                                   "message": msg}, to=reply_to)
    except Exception:
        pass
