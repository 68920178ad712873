"""B5 (PERF.md): a slow viewer (about 1k messages/s) while a producer streams for 60 s.

Reports the server's memory growth (RSS), the p99 latency of the latest state
seen by the viewer (producer wall time carried in each event), and the events
dropped for it (announced with ``gap``).
"""
import json
import statistics
import sys
import threading
import time

from bench._serve import TOKEN, Served, Viewer
from bench.harness import row


def run(quick=False, seconds=None, rate=20000):
    """Run B5; ``seconds`` of streaming at about ``rate`` events/s."""
    import gradviz as gv
    seconds = seconds or (10 if quick else 60)
    srv = Served()
    try:
        att = gv.attach(srv.base, token=TOKEN, session="slow")
        rss0 = srv.rss_mb()
        total = int(seconds * rate)
        viewer = Viewer(srv.base, "slow", total, delay=0.001)   # ~1k messages/s at most
        peak = [rss0]
        done = threading.Event()

        def sample():
            while not done.wait(0.25):
                peak.append(srv.rss_mb())

        th = threading.Thread(target=sample, daemon=True)
        th.start()
        t0 = time.time()
        chunk = rate // 50
        for k in range(total // chunk):
            for i in range(chunk):
                gv.trace.emit({"type": "scalar", "name": "tick", "value": time.time(),
                               "step": k * chunk + i})
            lag = t0 + (k + 1) / 50 - time.time()
            if lag > 0:
                time.sleep(lag)
        att.flush(300)
        produced = att.acked
        att.close()
        r = viewer.result()
        done.set()
        th.join()
    finally:
        srv.close()
    lat = sorted(r["lat"]) or [float("nan")]
    p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
    growth = max(peak) - rss0
    rows = [row("server RSS growth", growth, "MB", target="≤50 MB", met=growth <= 50),
            row("latest-state latency p99", p99 * 1e3, "ms", target="≤250 ms", met=p99 <= 0.25),
            row("latest-state latency p50", statistics.median(lat) * 1e3, "ms"),
            row("events dropped (announced by gap)", r["dropped"], "events")]
    notes = [f"{produced} events in {seconds} s to a viewer reading {r['msgs']} messages"]
    return {"bench": "B5", "rows": rows, "notes": notes, "seconds": seconds, "produced": produced,
            "received": r["n"], "dropped_announced": r["dropped"], "viewer_messages": r["msgs"],
            "rss_start_mb": rss0, "rss_peak_mb": max(peak), "rss_growth_mb": max(peak) - rss0,
            "latest_state_latency_p50_s": statistics.median(lat), "latest_state_latency_p99_s": p99}


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
