"""Which backward nodes run, and in what order: the graph walk of ``run_backward``.

``_order`` lists the nodes reachable from the roots in a deterministic reverse topological
order (with each node's count of incoming edges); with ``inputs=`` ``_needed`` keeps the
nodes on a path to an input (torch's pruning), ``_pruned_needs`` tells a node which of its
gradients lead there and ``_drop_pruned`` drops the others a custom Function computed;
``_stranded`` finds the leaves whose gradient is still being summed after the loop.
"""
from .function import REBASED, as_seen


def _order(roots):
    """Nodes reachable from the roots' grad_fns in reverse topological order (iterative DFS),
    plus how many graph edges lead into each leaf (by id). Each node reached also gets its
    ``needs_input_grad`` (which inputs require grad), read here once per input anyway."""
    post = []
    seen = set()
    deps = {}
    for root in roots:
        if root is None or id(root) in seen:
            continue
        seen.add(id(root))
        stack = [(root, iter(_expand(root, deps)))]
        while stack:
            fn, it = stack[-1]
            for child in it:
                key = id(child)
                if key not in seen:
                    seen.add(key)
                    stack.append((child, iter(_expand(child, deps))))
                    break  # finish the child first, then come back to fn's next input
            else:
                stack.pop()
                post.append(fn)
    post.reverse()
    return post, deps


def _expand(fn, deps):
    """fn's input nodes (in input order, repeats kept) for the DFS; counts the edges into
    leaves in ``deps`` and sets ``fn.needs_input_grad``."""
    children = []
    needs = []
    if fn.epoch is not None and fn.epoch < REBASED[0]:
        as_seen(fn)   # an input changed in place in a graph after fn ran
    for a in fn.inputs:
        r = getattr(a, "requires_grad", False)
        needs.append(r)
        if r:
            child = a.grad_fn
            if child is None:
                key = id(a)
                deps[key] = deps.get(key, 0) + 1
            else:
                children.append(child)
    fn.needs_input_grad = tuple(needs)
    return children


def _needed(order, want, run_targets):
    """Ids of the nodes in ``order`` (reverse topological) whose backward must run to reach
    an input in ``want`` (keys: an input's grad_fn id, or a leaf input's id): those with an
    edge to such an input or to another needed node, as torch's graph pruning. An input's
    own node runs only when ``run_targets`` (backward(inputs=...)) or when needed."""
    needed = set()
    for fn in reversed(order):   # inputs before the nodes that use them
        k = id(fn)
        if run_targets and k in want:
            needed.add(k)
            continue
        for a, need in zip(fn.inputs, fn.needs_input_grad):   # set by _order
            if need:
                child = a.grad_fn
                ck = id(a) if child is None else id(child)
                if ck in want or ck in needed:
                    needed.add(k)
                    break
    return needed


def _pruned_needs(fn, run, want):
    """fn's ``needs_input_grad`` for a pruned backward: True only for the inputs that
    require grad and lead to a requested input (their node runs or is one), as torch's
    ``should_compute_output`` for its own nodes; the op then skips the other gradients."""
    needs = []
    for a in fn.inputs:
        need = False
        if getattr(a, "requires_grad", False):
            child = a.grad_fn
            ck = id(a) if child is None else id(child)
            need = ck in run or ck in want
        needs.append(need)
    return tuple(needs)


def _drop_pruned(fn, grads_in, run, want):
    """fn's gradients with those for inputs that lead to no requested input set to None:
    a custom Function computes them (its ``ctx.needs_input_grad`` is fixed, as torch's)
    and its post hooks see them; torch then discards them."""
    out = list(grads_in)
    for i, (a, gi) in enumerate(zip(fn.inputs, grads_in)):
        if gi is not None:
            child = a.grad_fn
            ck = id(a) if child is None else id(child)
            if ck not in run and ck not in want:
                out[i] = None
    return tuple(out)


def _stranded(roots, order, leaf_grads):
    """(leaf, gradient) for the leaves whose gradient is still being summed after the loop:
    an edge into them carried none (a backward returned None there, or its node got no
    gradient), or a leaf root used by no node; in graph order. Empties ``leaf_grads``."""
    found = []
    for t in roots:
        if id(t) in leaf_grads:
            found.append((t, leaf_grads.pop(id(t))))
    for fn in order:
        for a in fn.inputs:
            if id(a) in leaf_grads:   # ids of live leaves: fn.inputs holds them
                found.append((a, leaf_grads.pop(id(a))))
    return found
