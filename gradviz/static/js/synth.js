// Synthetic autograd-shaped graphs (residual MLP blocks with named parameters), for the
// layout and render benchmarks (bench/b6_layout.py, bench/b7_render.py) and UI tests.

/** About `size` node records shaped like a traced residual network, in trace order. */
export function synthGraph(size, { blockOps = 8 } = {}) {
  const recs = [];
  let id = 1;
  const leaf = (name, shape, module) => {
    const r = { id: id++, kind: "leaf", name, shape, module, slot: name ? `p:${name}` : `l:${id}`, inputs: [] };
    slotOf.set(r.id, r.slot);
    recs.push(r);
    return r.id;
  };
  const slotOf = new Map();
  const op = (name, inputs, shape, module) => {
    const r = { id: id++, kind: "op", op: name, inputs, shape, module, slot: `o:${id}`,
      inSlots: inputs.map((i) => slotOf.get(i)) };
    slotOf.set(r.id, r.slot);
    recs.push(r);
    return r.id;
  };
  let x = leaf(null, [64, 128], null);
  let block = 0;
  while (recs.length < size - 4) {
    const layer = `layer${Math.floor(block / 4)}`, mod = `${layer}.block${block % 4}`;
    const skip = x;
    for (let k = 0; k < blockOps / 4 && recs.length < size - 4; k++) {
      const w = leaf(`${mod}.fc${k}.weight`, [128, 128], `${mod}.fc${k}`);
      const b = leaf(`${mod}.fc${k}.bias`, [128], `${mod}.fc${k}`);
      x = op("MatMul", [x, w], [64, 128], `${mod}.fc${k}`);
      x = op("Add", [x, b], [64, 128], `${mod}.fc${k}`);
    }
    x = op("Add", [x, skip], [64, 128], mod);
    x = op("ReLU", [x], [64, 128], mod);
    block++;
  }
  const y = leaf(null, [64], null);
  op("CrossEntropy", [x, y], [], null);
  return recs;
}
