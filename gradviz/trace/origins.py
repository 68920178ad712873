"""Where NaN/Inf starts (EVENTS.md: an ``anomaly`` event), found by the tracer's drain from
the stats it takes of every event anyway: ``bad`` holds the nodes whose value is non-finite,
``touched`` the ops that read or made such a value (their backward is not where it starts);
``reported`` the nodes an anomaly was sent for (a breakpoint's may come a drain before
the event it is about); all persist across drains on the Tracer."""


def with_origins(events, bad, touched, reported):
    """``events`` with an ``anomaly`` after each node where NaN/Inf starts: an op whose
    inputs were finite, a leaf, a backward node sending a non-finite gradient from a
    finite one, an optimizer update. Read off the stats the drain takes anyway, so the
    computing thread pays nothing; nodes already reported (detect_anomaly, a breakpoint)
    are not reported again, and values that merely carry a NaN on are not reported."""
    if len(bad) + len(touched) + len(reported) > 100_000:   # a long-gone past: stale ids
        bad.clear()                                           # only hide reports
        touched.clear()
        reported.clear()
    reported.update(e["node"] for e in events if e["type"] == "anomaly")
    out = []
    for ev in events:
        out.append(ev)
        kind = ev["type"]
        if kind in ("op", "leaf"):
            what = _nonfinite(ev["stats"])
            node = ev["node"]
            carried = kind == "op" and any(i in bad for i in ev["inputs"])
            if carried or what is not None:
                touched.add(node)   # its backward reads them: not where they start
            if what is None:
                continue
            bad.add(node)
            if node in reported or carried:
                continue
            where = f" (called at {ev['src']})" if kind == "op" and ev.get("src") else ""
            name = ev["op"] if kind == "op" else f"input {ev.get('name') or node}"
            verb = "produced" if kind == "op" else "holds"
            msg = f"{name} {verb} {what} values{where}"
        elif kind == "grad":
            sent = [c for c in ev["contribs"] if _nonfinite(c["stats"])]
            node = ev["node"]
            if not sent or _nonfinite(ev["grad"]) or node in reported or node in touched:
                continue
            what = _nonfinite(sent[0]["stats"])
            msg = (f"the backward of {ev['op']} sent {what} gradients (from a finite "
                   f"incoming gradient) to node {sent[0]['to']}")
        elif kind == "param_update":
            what = _nonfinite(ev.get("update_stats") or {})
            node = ev.get("node")
            if what is None or node in bad:
                continue
            bad.add(node)
            if node in reported:
                continue
            msg = f"the {ev.get('optimizer')} update put {what} values into " \
                  f"{ev.get('name') or f'parameter {node}'}"
        else:
            continue
        where = {"grad": "backward", "param_update": "update"}.get(kind, "forward")
        out.append({"v": ev["v"], "type": "anomaly", "t": ev.get("t"),
                    "node": node, "where": where, "what": what, "message": msg,
                    "origin": True})
        reported.add(node)
    return out


def _nonfinite(st):
    """'nan', 'inf' or None from a stats dict."""
    if st.get("nan"):
        return "nan"
    return "inf" if st.get("inf") else None
