"""Several ``gradviz serve`` processes sharing sessions through Redis.

Flask-SocketIO's ``message_queue`` carries Socket.IO emits between processes
(commands to a producer connected elsewhere). Stored events travel on one more
Redis channel: each process publishes the batches it stores, and the others
store them too (``(session, seq)`` keeps it idempotent) and feed their own
viewers through their bounded per-client queues.
"""
import json
import logging
import secrets
import threading

log = logging.getLogger("gradviz.web")
CHANNEL = "gradviz:events"


class RedisBridge:
    """Publishes stored batches and ingests the other processes' batches."""

    def __init__(self, url, server, channel=CHANNEL):
        import redis
        self.server = server
        self.channel = channel
        self.origin = secrets.token_hex(8)
        self.redis = redis.Redis.from_url(url)
        self.pubsub = None
        self.thread = None
        self.stopped = threading.Event()

    def publish(self, session, source, bodies):
        """Send one stored batch (JSON texts) to the other processes."""
        msg = '{"origin":"%s","kind":"events","session":%s,"source":%s,"events":[%s]}' % (
            self.origin, json.dumps(session), json.dumps(source), ",".join(bodies))
        self.redis.publish(self.channel, msg)

    def publish_command(self, session, command):
        """Ask whichever process runs ``session`` to apply a gate command."""
        self.redis.publish(self.channel, json.dumps({"origin": self.origin, "kind": "command",
                                                     "session": session, "command": command}))

    def start(self):
        """Subscribe and start the listening thread."""
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(self.channel)
        self.thread = threading.Thread(target=self._listen, name="gradviz-redis", daemon=True)
        self.thread.start()

    def _listen(self):
        while not self.stopped.is_set():
            try:
                msg = self.pubsub.get_message(timeout=0.2)
                if msg is None or msg.get("type") != "message":
                    continue
                data = json.loads(msg["data"])
                if data.get("origin") == self.origin:
                    continue
                self._handle(data)
            except Exception:
                if self.stopped.is_set():
                    return
                log.exception("redis bridge: message dropped")
                self.stopped.wait(0.2)

    def _handle(self, data):
        mgr = self.server.manager
        if data.get("kind") == "events":
            events = data["events"]
            bodies = [json.dumps(ev, allow_nan=False, separators=(",", ":")) for ev in events]
            mgr.ingest_remote(data["session"], data.get("source", "attached"), events, bodies)
        elif data.get("kind") == "command":
            s = mgr.sessions.get(data.get("session"))
            if s is not None and s.job is not None:
                self.server.control(s, data["command"], remote=True)

    def stop(self):
        """Stop listening and close the Redis connections."""
        self.stopped.set()
        if self.thread is not None:
            self.thread.join(5)
        if self.pubsub is not None:
            self.pubsub.close()
        self.redis.close()
