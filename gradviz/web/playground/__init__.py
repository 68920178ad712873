"""The playground: a full model builder validated on the server, its training job,
the code view and code mode (issue 6).

``spec.validate`` checks a JSON spec (types, ranges, shapes layer by layer, limits)
before anything is allocated; ``build`` turns a clean spec into data and a model;
``job.PlaygroundJob`` trains it in a traced session; ``codegen.script`` writes the
equivalent Python; ``codemode`` runs user code in a limited subprocess.
"""
from .spec import SpecError, validate

__all__ = ["SpecError", "validate"]
