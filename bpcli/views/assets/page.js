// bp's step-through page: the annotated gate graph laid out left to right by dagre, the forward
// pass gate by gate (values appear on wires), then the backward pass gate by gate (gradients
// appear, each step showing local x upstream = downstream). Every number was computed by bp;
// this script only shows them.
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("bp-data").textContent);
  const SVG = "http://www.w3.org/2000/svg";
  const OUT = DATA.outname;
  const expanded = new Set();
  let view = null; // the graph on screen: nodes, wires, steps, layout
  let step = 0;
  let selected = null;
  const GATE_R = 17; // a gate's circle
  const boxWidth = (n) => Math.max(36, 10 + 9 * n.name.length); // an input's or constant's label

  const par = (s) => (s.startsWith("-") ? "(" + s + ")" : s); // a negative factor in a product
  const d = (name) => "\u2202" + OUT + "/\u2202" + name; // "df/dx" as the lecture writes it
  const el = (tag, attrs, parent) => {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  };
  const text = (parent, x, y, cls, s) => {
    const t = el("text", { x: x, y: y, class: cls }, parent);
    t.textContent = s;
    return t;
  };

  // -- the graph on screen: merged gates, with the expanded ones replaced by their primitives --
  function build() {
    const nodes = [];
    const sub = {}; // a merged gate that is expanded -> the primitive gate that gives its output
    for (const n of DATA.nodes) {
      const inner = DATA.inner[n.key];
      if (inner && expanded.has(n.key)) {
        for (const m of inner.nodes) nodes.push(Object.assign({ group: n.key }, m));
        sub[n.key] = inner.out;
      } else nodes.push(n);
    }
    const byKey = {};
    const wires = [];
    for (const n of nodes) {
      byKey[n.key] = n;
      n.uses = []; // the wires out of the node (several at a fork)
      n.wires = []; // the wires into it, from the nodes on screen
    }
    for (const n of nodes) {
      (n.inputs || []).forEach((w, k) => {
        const from = sub[w.from] || w.from;
        const wire = Object.assign({ to: n.key, k: k, id: from + "-" + n.key + "-" + k }, w, { from: from });
        wires.push(wire);
        n.wires.push(wire);
        byKey[from].uses.push(wire);
      });
    }
    const shown = nodes.filter((n) => n.kind !== "const" || n.uses.length);
    const output = sub[DATA.output] || DATA.output;
    const gates = shown.filter((n) => n.kind === "gate");
    const steps = [{ kind: "start" }];
    gates.forEach((n) => steps.push({ kind: "forward", node: n }));
    steps.push({ kind: "seed", node: byKey[output] });
    gates
      .slice()
      .reverse()
      .filter((n) => n.grad !== null && n.wires.some((w) => w.sent !== undefined))
      .forEach((n) => steps.push({ kind: "backward", node: n }));
    // when each node's value and each wire's gradient appear
    const at = {};
    steps.forEach((s, i) => {
      if (s.kind === "forward") at[s.node.key] = i;
      if (s.kind === "backward") s.node.wires.forEach((w, k) => (at[s.node.key + "#" + k] = i));
    });
    view = { nodes: shown, byKey: byKey, wires: wires, steps: steps, at: at, output: output };
    layout();
    step = Math.min(step, steps.length - 1);
  }

  function layout() {
    const g = new dagre.graphlib.Graph({ compound: true, multigraph: true });
    g.setGraph({ rankdir: "LR", nodesep: 34, ranksep: 70, edgesep: 20, marginx: 16, marginy: 16 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const key of expanded) g.setNode("c" + key, { label: key, paddingTop: 22 });
    for (const n of view.nodes) {
      // room for the labels around a node: its pattern below a gate, its gradient below an input
      const below = n.kind === "gate" ? n.pattern.length * 6 : 0;
      const terms = n.uses.reduce((t, u) => t + (u.sshown || "").length + 3, 0);
      const sum = n.kind === "var" || n.uses.length > 1 ? 7 * (d(n.name).length + 6 + terms + n.gshown.length) : 0;
      const w = Math.max(n.kind === "gate" ? 40 : 36, 10 + 9 * n.name.length, below, sum);
      g.setNode(n.key, { width: w, height: n.kind === "gate" ? 80 : 54 });
      if (n.group) g.setParent(n.key, "c" + n.group);
    }
    for (const w of view.wires) {
      g.setEdge(w.from, w.to, { width: 16 + 8 * Math.max(w.shown.length, (w.sshown || "").length), height: 36, labelpos: "c" }, w.id);
    }
    g.setNode("out", { width: 10, height: 10 });
    g.setEdge(view.output, "out", { width: 60, height: 36, labelpos: "c" }, "out");
    dagre.layout(g);
    view.layout = g;
  }

  // -- drawing ------------------------------------------------------------------------------
  const valueKnown = (key) => {
    const n = view.byKey[key];
    return n.kind !== "gate" || view.at[key] <= step;
  };
  const gradKnown = (wire) => view.at[wire.to + "#" + wire.k] <= step;
  const seedDone = () => view.steps.findIndex((s) => s.kind === "seed") <= step;

  function draw() {
    const g = view.layout;
    const box = g.graph();
    const svg = el("svg", { viewBox: "0 0 " + (box.width + 40) + " " + (box.height + 10), width: box.width + 40, height: box.height + 10, role: "img" });
    svg.appendChild(el("title", {})).textContent = "the annotated graph of " + DATA.expression;
    const defs = el("defs", {}, svg);
    const m = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 8, markerHeight: 8, markerUnits: "userSpaceOnUse", orient: "auto" }, defs);
    el("path", { d: "M0,0 L10,5 L0,10 z", fill: "#1f2328" }, m);
    const current = view.steps[step].node;
    for (const key of expanded) {
      const c = g.node("c" + key);
      const host = DATA.nodes.find((n) => n.key === key);
      const grp = el("g", { class: "cluster" }, svg);
      el("rect", { class: "box", x: c.x - c.width / 2, y: c.y - c.height / 2, width: c.width, height: c.height, rx: 8 }, grp);
      text(grp, c.x - c.width / 2 + 24, c.y - c.height / 2 + 15, "", host.symbol + " " + host.name + " in primitive gates");
      toggle(svg, c.x - c.width / 2 + 10, c.y - c.height / 2 + 11, "\u2212", key, "collapse " + host.symbol);
    }
    const edge = (from, to, id) => g.edge(from, to, id);
    const path = (pts) => "M" + pts.map((p) => p.x.toFixed(1) + "," + p.y.toFixed(1)).join(" L");
    // dagre ends a wire at the node's box; a gate is drawn as a small circle in that box, so the
    // wire is cut (or stretched) to touch the circle (or an input's label)
    const touch = (pts, key, end) => {
      const n = view.byKey[key];
      const c = g.node(key);
      if (!n || !c) return;
      const i = end ? pts.length - 1 : 0;
      const prev = pts[end ? i - 1 : 1];
      if (n.kind !== "gate") {
        pts[i] = { x: c.x + (end ? -1 : 1) * (boxWidth(n) / 2), y: c.y };
        return;
      }
      const dx = prev.x - c.x;
      const dy = prev.y - c.y;
      const len = Math.hypot(dx, dy) || 1;
      pts[i] = { x: c.x + (GATE_R + 1) * dx / len, y: c.y + (GATE_R + 1) * dy / len };
    };
    for (const w of view.wires) {
      const e = edge(w.from, w.to, w.id);
      const grp = el("g", { class: "wire", "data-from": w.from, "data-to": w.to, "data-k": w.k }, svg);
      if (current && current.key === w.to && view.steps[step].kind === "backward" && w.sent !== undefined) grp.classList.add("hot");
      const pts = e.points.slice();
      touch(pts, w.from, false);
      touch(pts, w.to, true);
      el("path", { d: path(pts), "marker-end": "url(#arrow)" }, grp);
      if (valueKnown(w.from)) text(grp, e.x, e.y - 7, "wval", w.shown).setAttribute("data-exact", w.value);
      if (w.sent !== undefined && gradKnown(w)) text(grp, e.x, e.y + 16, "wgrad", w.sshown).setAttribute("data-exact", w.sent);
    }
    const oe = edge(view.output, "out", "out");
    const out = view.byKey[view.output];
    const og = el("g", { class: "wire", "data-from": view.output, "data-to": "out" }, svg);
    const opts = oe.points.slice();
    touch(opts, view.output, false);
    el("path", { d: path(opts), "marker-end": "url(#arrow)" }, og);
    if (valueKnown(view.output)) text(og, oe.x, oe.y - 7, "wval", out.shown).setAttribute("data-exact", out.value);
    if (seedDone()) text(og, oe.x, oe.y + 16, "wgrad", "1").setAttribute("data-exact", 1);
    const o = g.node("out");
    text(svg, o.x + 8, o.y + 4, "name", OUT).setAttribute("text-anchor", "start");
    for (const n of view.nodes) drawNode(svg, n, g.node(n.key), current);
    const canvas = document.getElementById("canvas");
    canvas.replaceChildren(svg);
  }

  function toggle(svg, x, y, sign, key, title) {
    const t = el("g", { class: "toggle", "data-toggle": key, tabindex: 0 }, svg);
    el("rect", { x: x - 7, y: y - 7, width: 14, height: 14, rx: 3 }, t);
    text(t, x, y + 1, "", sign);
    el("title", {}, t).textContent = title;
    t.addEventListener("click", (ev) => {
      ev.stopPropagation();
      flip(key);
    });
  }

  function drawNode(svg, n, p, current) {
    if (n.kind !== "gate") {
      const grp = el("g", { class: "leaf " + n.kind, "data-key": n.key }, svg);
      el("rect", { x: p.x - boxWidth(n) / 2, y: p.y - 13, width: boxWidth(n), height: 26 }, grp);
      text(grp, p.x, p.y, "sym", n.name);
      if (n.kind === "var") total(grp, n, p.x, p.y + 28, true);
      return;
    }
    const grp = el("g", { class: "gate", "data-key": n.key }, svg);
    if (current && current.key === n.key) grp.classList.add("current");
    if (selected === n.key) grp.classList.add("sel");
    el("circle", { cx: p.x, cy: p.y, r: GATE_R }, grp);
    text(grp, p.x, p.y, "sym" + (n.symbol.length > 2 ? " long" : ""), n.symbol);
    text(grp, p.x, p.y - GATE_R - 5, "name", n.name);
    text(grp, p.x, p.y + GATE_R + 13, "pattern" + (n.patterned ? " named" : ""), n.pattern);
    el("title", {}, grp).textContent = n.symbol + " " + n.name + ": " + n.about;
    total(grp, n, p.x, p.y + GATE_R + 27, false);
    if (DATA.inner[n.key] && !n.group) toggle(svg, p.x + GATE_R + 4, p.y - GATE_R - 4, "+", n.key, "expand " + n.symbol + " into primitive gates");
    grp.addEventListener("mouseenter", () => info(n));
    grp.addEventListener("click", () => {
      selected = selected === n.key ? null : n.key;
      info(n);
      draw();
    });
  }

  // the node's gradient so far: at a fork, the sum of the contributions that have arrived
  function total(grp, n, x, y, always) {
    const live = n.uses.filter((w) => w.sent !== undefined);
    if (!always && live.length < 2) return;
    const arrived = live.filter(gradKnown);
    if (!arrived.length) return;
    let s = d(n.name) + " = " + arrived.map((w) => w.sshown).join(" + ");
    const done = arrived.length === live.length;
    if (arrived.length > 1 || !done) s += done ? " = " + n.gshown : " + \u2026";
    const t = text(grp, x, y, "total", s);
    t.setAttribute("data-total", n.key);
    if (done) t.setAttribute("data-exact", n.grad);
  }

  // -- the step explained: local x upstream = downstream ---------------------------------------
  function explain() {
    const s = view.steps[step];
    const box = document.getElementById("explain");
    const gates = view.steps.filter((t) => t.kind === "forward").length;
    const back = view.steps.filter((t) => t.kind === "backward").length;
    let head = "";
    let body = "";
    if (s.kind === "start") {
      head = "the inputs";
      body = view.nodes.filter((n) => n.kind === "var").map((n) => n.name + " = " + n.shown).join(", ");
    } else if (s.kind === "forward") {
      const n = s.node;
      head = "forward pass, gate " + view.steps.indexOf(s) + " of " + gates;
      body = n.name + " = " + n.formula + "   with " + n.wires.map((w) => view.byKey[w.from].name + " = " + w.shown).join(", ") + "\n" + n.name + " = " + n.shown;
    } else if (s.kind === "seed") {
      head = "backward pass starts at the output";
      body = d(OUT) + " = 1";
    } else {
      const n = s.node;
      const i = view.steps.indexOf(s) - gates - 1;
      head = "backward pass, gate " + i + " of " + back + ": " + n.symbol + " (" + n.pattern + ")   local \u00d7 upstream = downstream";
      body = n.wires
        .filter((w) => w.sent !== undefined)
        .map((w) => {
          const from = view.byKey[w.from];
          let line = d(from.name) + " \u2190 " + w.ltext + " \u00d7 " + d(n.name) + " = " + par(w.lshown) + " \u00d7 " + par(n.gshown) + " = " + w.sshown;
          const live = from.uses.filter((u) => u.sent !== undefined);
          if (live.length > 1) {
            const arrived = live.filter(gradKnown);
            line += "   (fork: " + d(from.name) + " = " + arrived.map((u) => u.sshown).join(" + ");
            line += arrived.length === live.length ? " = " + from.gshown + ")" : " + \u2026 so far)";
          }
          return line;
        })
        .join("\n");
    }
    box.replaceChildren();
    const h = document.createElement("div");
    h.className = "phase";
    h.textContent = head;
    box.append(h, body);
    document.getElementById("step").textContent = "step " + step + " / " + (view.steps.length - 1);
    document.getElementById("first").disabled = document.getElementById("prev").disabled = step === 0;
    document.getElementById("next").disabled = document.getElementById("last").disabled = step === view.steps.length - 1;
    const rows = document.querySelectorAll("#inputs tbody tr");
    view.nodes
      .filter((n) => n.kind === "var")
      .forEach((n) => {
        const row = [...rows].find((r) => r.dataset.name === n.name);
        const live = n.uses.filter((w) => w.sent !== undefined);
        const cell = row.querySelector("td.grad");
        cell.textContent = live.length && live.every(gradKnown) ? n.gshown : "";
      });
  }

  function info(n) {
    const box = document.getElementById("info");
    const lines = [n.symbol + " " + n.name + " = " + n.formula + " = " + n.shown + "   (" + n.about + ")"];
    n.wires.forEach((w) => {
      const from = view.byKey[w.from];
      if (w.sent === undefined) return;
      lines.push("  local gradient \u2202" + n.name + "/\u2202" + from.name + " = " + w.ltext + " = " + w.lshown + ";  \u00d7 upstream " + par(n.gshown) + " = " + w.sshown);
    });
    if (DATA.inner[n.key] && !n.group) lines.push("  composite gate: + expands it into " + DATA.inner[n.key].nodes.filter((m) => m.kind === "gate").length + " primitive gates");
    box.textContent = lines.join("\n");
  }

  function flip(key) {
    if (expanded.has(key)) expanded.delete(key);
    else expanded.add(key);
    refresh(true);
  }

  function refresh(rebuild) {
    if (rebuild) {
      const atEnd = view && step === view.steps.length - 1;
      build();
      if (atEnd) step = view.steps.length - 1;
    }
    draw();
    explain();
  }

  function go(to) {
    step = Math.max(0, Math.min(view.steps.length - 1, to));
    refresh(false);
  }

  // -- the page -------------------------------------------------------------------------------
  document.getElementById("expr").textContent = DATA.expression;
  const summary = OUT + " = " + DATA.shown + "   (" + DATA.gates + " gate" + (DATA.gates === 1 ? "" : "s") + ", " + DATA.inputs.length + " input" + (DATA.inputs.length === 1 ? "" : "s") + ")";
  document.getElementById("summary").textContent = summary;
  const tbody = document.querySelector("#inputs tbody");
  DATA.inputs_shown.forEach((r, i) => {
    const tr = document.createElement("tr");
    tr.dataset.name = r[0];
    tr.dataset.value = DATA.inputs[i].value;
    tr.dataset.grad = DATA.inputs[i].grad;
    for (const [cls, s] of [["", r[0]], ["val", r[1]], ["grad", r[2]]]) {
      const td = document.createElement("td");
      td.className = cls;
      td.textContent = s;
      tr.appendChild(td);
    }
    tbody.appendChild(tr);
  });
  if (DATA.gates > DATA.max_gates || !DATA.nodes.length) {
    // too large to draw (or nothing to draw): the summary and the inputs table only
    document.getElementById("controls").hidden = true;
    document.getElementById("explain").textContent = DATA.gates ? DATA.gates + " gates is more than --max-gates " + DATA.max_gates + ": showing the inputs only (draw all with --max-gates " + DATA.gates + ")" : "";
    document.body.dataset.ready = "1";
    return;
  }
  const has = Object.keys(DATA.inner).length > 0;
  document.getElementById("expand-all").hidden = document.getElementById("collapse-all").hidden = !has;
  document.getElementById("first").onclick = () => go(0);
  document.getElementById("prev").onclick = () => go(step - 1);
  document.getElementById("next").onclick = () => go(step + 1);
  document.getElementById("last").onclick = () => go(view.steps.length - 1);
  document.getElementById("expand-all").onclick = () => {
    Object.keys(DATA.inner).forEach((k) => expanded.add(k));
    refresh(true);
  };
  document.getElementById("collapse-all").onclick = () => {
    expanded.clear();
    refresh(true);
  };
  document.addEventListener("keydown", (ev) => {
    // space always steps (a focused button still answers Enter)
    const moves = { ArrowRight: step + 1, " ": step + 1, ArrowLeft: step - 1, Home: 0, End: Infinity };
    if (ev.key in moves) {
      ev.preventDefault();
      go(moves[ev.key]);
    }
  });
  refresh(true);
  document.body.dataset.ready = "1";
})();
