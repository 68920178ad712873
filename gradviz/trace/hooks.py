"""The few flags the engine reads on its hot path, and nothing else.

The engine checks ``HOOKS.on`` once per op and once per backward node; only
when it is set does it call into the tracer, the step gate or anomaly checks.
"""


class Hooks:
    """Process-wide switches; ``on`` is true when anything wants to watch."""

    __slots__ = ("on", "listening", "gate", "anomaly", "packing", "module_stack", "scope",
                 "tracer")

    def __init__(self):
        self.on = False          # listening or gate or anomaly or packing
        self.listening = False   # at least one sink wants events
        self.gate = None         # step gate: after_forward(info) / before_backward(info)
        self.anomaly = False     # detect_anomaly() is active
        self.packing = 0         # saved_tensors_hooks blocks open (ops pack what they save)
        self.module_stack = []   # names pushed by nn.Module.__call__ while listening
        # the innermost nn.Module call in flight while listening: [its frame, the user's
        # (file, line) above it once known (else MISSING), the enclosing scope or None]
        self.scope = None
        self.tracer = None       # the Tracer (set by gradviz.trace.core)

    def refresh(self):
        self.on = bool(self.listening or self.gate is not None or self.anomaly
                       or self.packing)


HOOKS = Hooks()
MISSING = object()  # a module scope whose user frame is not known yet (HOOKS.scope[1])
