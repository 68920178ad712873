"""The ``gradviz`` command: serve, run, replay, export, --version."""
import argparse
import json
import os
import signal
import sys
import threading

from .errors import GradvizError


def _version():
    try:
        from importlib.metadata import version
        return version("gradviz")
    except Exception:
        return "0.1.0"


NONFINITE = {"NaN": "nan", "Infinity": "inf", "-Infinity": "-inf"}


def _nonfinite(name):
    # Python's json.dumps writes bare NaN/Infinity; events carry them as strings
    return NONFINITE[name]


def _bad_graph_event(ev):
    """Why a leaf/op/grad event cannot be drawn, or None when it can."""
    t = ev["type"]
    if t not in ("op", "leaf", "grad", "accum"):
        return None
    node = ev.get("node")
    if "node" not in ev:
        return f"malformed {t} event (no 'node')"
    if not isinstance(node, int) or isinstance(node, bool):
        return f"malformed {t} event ('node' must be an integer, not {node!r:.40})"
    inputs = ev.get("inputs", [])
    if t == "op" and (not isinstance(inputs, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in inputs)):
        return f"malformed {t} event ('inputs' must be a list of integer node ids)"
    return None


def load_recording(path):
    """Events of a JSON-lines recording; a torn (unparsable) last line is skipped.

    Bare ``NaN``/``Infinity`` (Python's ``json.dumps``) become the strings events use;
    a line that is not an event, or a graph event without integer ids, is a
    ``GradvizError`` naming ``FILE:LINE``."""
    events = []
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            ev = json.loads(line, parse_constant=_nonfinite)
        except (json.JSONDecodeError, RecursionError):
            if i == last:
                break   # torn by a crash mid-write: everything before it stands
            raise GradvizError(f"{path}:{i + 1}: not a JSON event line") from None
        if not isinstance(ev, dict) or not isinstance(ev.get("type"), str):
            raise GradvizError(f"{path}:{i + 1}: an event must be an object with a 'type'")
        bad = _bad_graph_event(ev)
        if bad:
            raise GradvizError(f"{path}:{i + 1}: {bad}")
        events.append(ev)
    return events


def _port(text):
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0..65535 (0: a free one), not {port}")
    return port


def _positive(text):
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a positive number of events, not {n}")
    return n


def _nonnegative(text):
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {n}")
    return n


def _token(text):
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty token is not allowed (leave --token out "
                                          "for a random one)")
    return text


def _queue_url(text):
    if not text.lower().startswith(("redis://", "rediss://")):
        raise argparse.ArgumentTypeError(f"{text!r} is not a redis:// or rediss:// URL")
    return text


def _serve_parser(sub, name, help_text):
    p = sub.add_parser(name, help=help_text)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (other hosts than loopback need a token)")
    p.add_argument("--port", type=_port, default=5000, help="0 picks a free port")
    tok = p.add_mutually_exclusive_group()
    tok.add_argument("--token", type=_token, default=None,
                     help="the token to require (default: random)")
    tok.add_argument("--no-token", action="store_true", help="require no token (loopback only)")
    p.add_argument("--producer-token", type=_token, default=None,
                   help="a token that may only send events")
    p.add_argument("--no-browser", action="store_true", help="do not open the page in a browser")
    p.add_argument("--store", default=None, help="SQLite event store (default: user data dir)")
    p.add_argument("--retention", type=_positive, default=None, help="events kept per session")
    p.add_argument("--message-queue", type=_queue_url, default=None,
                   help="redis://... to share sessions")
    p.add_argument("--allowed-host", action="append", default=[],
                   help="an extra Host header name to accept")
    p.add_argument("--no-default", action="store_true", help="no default model session")
    return p


def build_parser():
    """The argument parser of ``gradviz``."""
    ap = argparse.ArgumentParser(prog="gradviz", description="a visual autograd debugger")
    ap.add_argument("--version", action="version", version=f"gradviz {_version()}")
    sub = ap.add_subparsers(dest="cmd")
    _serve_parser(sub, "serve", "serve the UI and API")
    rp = _serve_parser(sub, "replay", "serve a recorded session")
    rp.add_argument("file", help="a recording (.jsonl, as the page's Export > recording saves)")
    ex = sub.add_parser("export", help="export a recording's graph")
    ex.add_argument("file", help="a recording (.jsonl)")
    ex.add_argument("-o", "--output", required=True, help="the file to write")
    ex.add_argument("--format", choices=("svg", "png", "dot", "json"), default=None,
                    help="default: from the output's extension")
    ex.add_argument("--max-nodes", type=_nonnegative, default=None,
                    help="svg/png: refuse graphs above this many nodes after collapsing by "
                         "module (default 5000; 0: no limit, Graphviz may take minutes)")
    run = sub.add_parser("run", help="run a script with its events streamed to a server")
    run.add_argument("--url", default=os.environ.get("GRADVIZ_URL", "http://127.0.0.1:5000"),
                     help="the server (default: $GRADVIZ_URL or http://127.0.0.1:5000)")
    run.add_argument("--token", default=os.environ.get("GRADVIZ_TOKEN"),
                     help="the token `gradviz serve` printed (default: $GRADVIZ_TOKEN)")
    run.add_argument("--session", default=os.environ.get("GRADVIZ_SESSION"),
                     help="session name (default: $GRADVIZ_SESSION, else a new one)")
    run.add_argument("--paused", action="store_true",
                     help="start paused at the first op: step it from the page")
    run.add_argument("script", help="the Python script to run")
    run.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the script")
    return ap


def serve(args, replay=None, out=None):
    """Run the server until SIGINT/SIGTERM; prints exactly one line (the URL)."""
    import logging
    from werkzeug.serving import make_server
    from .web import create_app
    from .web.security import is_loopback
    out = out or sys.stdout
    token = None if args.no_token else (args.token or "auto")
    if not is_loopback(args.host) and token is None:
        print(f"gradviz: refusing to listen on {args.host} without a token: anyone who can "
              "reach it could run code. Drop --no-token (or bind to 127.0.0.1).",
              file=sys.stderr)
        return 2
    if not is_loopback(args.host):
        print(f"gradviz: warning: listening on {args.host}, reachable from other machines; "
              "keep the token secret. Requests must name this machine by its host name or "
              "one of its own IP addresses; add other names (a DNS alias, a proxy's name) "
              "with --allowed-host NAME", file=sys.stderr)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    events = load_recording(replay) if replay is not None else None   # all before serving
    try:
        app = create_app({"host": args.host, "port": args.port, "token": token,
                          "producer_token": args.producer_token, "store": args.store,
                          "retention": args.retention, "message_queue": args.message_queue,
                          "allowed_hosts": tuple(args.allowed_host),
                          "default_session": not args.no_default and replay is None})
    except GradvizError:
        raise
    except Exception as e:
        if not args.message_queue:
            raise
        return _queue_failed(args.message_queue, e)
    server = app.extensions["gradviz"]
    try:
        httpd = make_server(args.host, args.port, app, threaded=True)
    except OSError as e:
        server.stop()
        print(f"gradviz: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 1
    try:
        server.start()
        if replay is not None:
            _load_replay(server, replay, events)
    except Exception as e:
        httpd.server_close()
        server.stop()
        if isinstance(e, GradvizError) or not args.message_queue:
            raise
        return _queue_failed(args.message_queue, e)
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    if ":" in shown:
        shown = f"[{shown}]"
    tok = server.config["token"]
    url = f"http://{shown}:{httpd.server_port}/" + (f"?token={tok}" if tok else "")
    print(f"gradviz serving at {url}", file=out, flush=True)
    if not args.no_browser:
        import webbrowser
        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    th = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2},
                          name="gradviz-http", daemon=True)
    th.start()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        httpd.shutdown()
        th.join(5)
        httpd.server_close()
        server.stop()
    return 0


def _queue_failed(url, e):
    print(f"gradviz: cannot use the message queue {url}: {str(e).splitlines()[0][:300]}",
          file=sys.stderr)
    return 2


def _load_replay(server, path, events):
    title = os.path.basename(path)
    session = server.manager.create("replay", prefix="replay", meta={"title": title})
    for i in range(0, len(events), 5000):
        chunk = [{k: v for k, v in ev.items() if k not in ("seq", "session")}
                 for ev in events[i:i + 5000]]
        server.manager.ingest_local(session, chunk)
    return session


def export(args):
    """Write a recording's current graph to a file."""
    from .web.export import current_graph, export_graph
    fmt = args.format or os.path.splitext(args.output)[1].lstrip(".").lower() or "svg"
    events = load_recording(args.file)
    if not current_graph(events):
        raise GradvizError(f"{args.file}: the recording has no graph (no leaf or op events); "
                           "nothing to export")
    limit = {} if args.max_nodes is None else {"max_nodes": args.max_nodes or None}
    try:
        data, _ = export_graph(events, fmt, **limit)
    except GradvizError as e:   # viz's advice names its Python argument; say the option
        raise GradvizError(str(e).replace("pass max_nodes=None",
                                          "pass --max-nodes 0")) from None
    with open(args.output, "wb") as f:
        f.write(data)
    return 0


def run_script(args):
    """Run a script with ``gv.attach`` set up, as if by ``python SCRIPT args``."""
    import runpy
    from .remote import attach, exit_reason
    _check_script(args.script)   # before attaching: a failed start leaves no empty session
    att = attach(args.url, token=args.token, session=args.session, paused=args.paused)
    sys.argv = [args.script] + list(args.args)
    sys.path.insert(0, os.path.dirname(os.path.abspath(args.script)))
    try:
        runpy.run_path(args.script, run_name="__main__")
    except SystemExit as e:
        # the attachment closes at exit (after the script's other threads); say how it ended
        att.exit_hint = "ok" if e.code in (None, 0) else f"error: SystemExit({e.code!r:.40})"
        raise
    except BaseException as e:
        att.exit_hint = exit_reason(type(e))
        raise
    return 0


def _check_script(path):
    """A ``GradvizError`` unless ``path`` is a readable Python file that compiles."""
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as e:
        raise GradvizError(f"cannot run {path}: {e.strerror or e}") from None
    try:
        compile(source, path, "exec", dont_inherit=True)
    except SyntaxError as e:
        raise GradvizError(f"{path}:{e.lineno}: {type(e).__name__}: {e.msg}") from None
    except ValueError as e:   # NUL bytes
        raise GradvizError(f"cannot run {path}: {e}") from None


def main(argv=None):
    """Entry point of the ``gradviz`` console script."""
    ap = build_parser()
    args = ap.parse_args(argv)
    try:
        if args.cmd == "serve":
            return serve(args)
        if args.cmd == "replay":
            return serve(args, replay=args.file)
        if args.cmd == "export":
            return export(args)
        if args.cmd == "run":
            return run_script(args)
    except (GradvizError, OSError) as e:
        print(f"gradviz: {e}", file=sys.stderr)
        return 1
    ap.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
