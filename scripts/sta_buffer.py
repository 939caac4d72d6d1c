#!/usr/bin/env python3
"""Fanout buffering of a yosys gate-level netlist before static timing (scripts/sta.sh).

ABC buffers the combinational logic it maps, but not the nets driven by flip-flops or input ports (they are
outside its scope): in the MX PE one stage-2 register drives over a thousand inputs, and a DFFPOSX1 driving
that load directly would make the critical path a fanout artefact. Every place-and-route flow builds buffer
trees; this does the same minimally: each net with more than MAX_FANOUT sinks gets a tree of BUFX4 cells,
MAX_FANOUT sinks per buffer, levels added until the root drives at most MAX_FANOUT.

    sta_buffer.py NETLIST_IN NETLIST_OUT [MAX_FANOUT]      prints "buffers added" on stdout

Reads the netlist written by `write_verilog -noattr -noexpr` (one cell instance per block of lines
`CELL NAME ( .PIN(net), ... );`, `assign lhs = rhs;`). Output pins are those of the OSU 0.18 um cells (Y, Q,
YC/YS of the adders); every other pin is a sink. Logic is unchanged: only buffers are inserted.
"""
import re
import sys

OUT_PINS = {"Y", "Q", "YC", "YS"}


def main():
    src, dst = sys.argv[1], sys.argv[2]
    max_fo = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    text = open(src).read()
    # Instances: "  CELL NAME (\n    .PIN(net),\n ... );"
    inst_re = re.compile(r"^(\s*)(\w+) (\S+) \((.*?)\);", re.S | re.M)
    pin_re = re.compile(r"\.(\w+)\(([^()]*)\)")
    sinks = {}   # net -> list of (kind, index, pin)
    items = []   # parsed pieces of the file, rewritten at the end
    pos = 0
    for m in inst_re.finditer(text):
        if m.group(2) in ("module", "input", "output", "wire", "assign"):
            continue
        items.append(("text", text[pos:m.start()]))
        pins = [[p, n.strip()] for p, n in pin_re.findall(m.group(4))]
        idx = len(items)
        items.append(("inst", m.group(1), m.group(2), m.group(3), pins))
        for k, (p, n) in enumerate(pins):
            if p not in OUT_PINS and n and not re.match(r"^\d+'", n):
                sinks.setdefault(n, []).append((idx, k))
        pos = m.end()
    items.append(("text", text[pos:]))
    # assign lhs = rhs: rhs is a sink (rewritten like a pin)
    assign_re = re.compile(r"assign (.+?) = (.+?);")
    for i, it in enumerate(items):
        if it[0] != "text":
            continue
        parts = []
        last = 0
        for m in assign_re.finditer(it[1]):
            parts.append(("raw", it[1][last:m.start()]))
            parts.append(["asg", m.group(1), m.group(2).strip()])
            last = m.end()
        parts.append(("raw", it[1][last:]))
        items[i] = ("parts", parts)
        for j, p in enumerate(parts):
            if p[0] == "asg" and not re.match(r"^\d+'", p[2]):
                sinks.setdefault(p[2], []).append((i, ("asg", j)))

    added = []
    counter = [0]

    def new_net():
        counter[0] += 1
        return "_stabuf_%d_" % counter[0]

    for net, lst in list(sinks.items()):
        level = lst
        while len(level) > max_fo:
            nxt = []
            for g in range(0, len(level), max_fo):
                group = level[g:g + max_fo]
                out = new_net()
                for ref in group:
                    if ref[0] == "buf":
                        added[ref[1]][1] = out
                    else:
                        i, k = ref
                        if isinstance(k, tuple):
                            items[i][1][k[1]][2] = out
                        else:
                            items[i][4][k][1] = out
                added.append([out, None])   # [output net, input net (set by the next level)]
                nxt.append(("buf", len(added) - 1))
            level = nxt
        for ref in level:
            if ref[0] == "buf":
                added[ref[1]][1] = net

    out = []
    for it in items:
        if it[0] == "parts":
            for p in it[1]:
                out.append(p[1] if p[0] == "raw" else "assign %s = %s;" % (p[1], p[2]))
        elif it[0] == "text":
            out.append(it[1])
        else:
            _, ind, cell, name, pins = it
            out.append("%s%s %s (\n%s\n%s);" % (ind, cell, name,
                       ",\n".join("%s  .%s(%s)" % (ind, p, n) for p, n in pins), ind))
    body = "".join(out)
    decl = "".join("  wire %s;\n" % o for o, _ in added)
    bufs = "".join("  BUFX4 _stabuf_cell_%d_ (\n    .A(%s),\n    .Y(%s)\n  );\n" % (i, a, o)
                   for i, (o, a) in enumerate(added))
    k = body.rindex("endmodule")
    body = body[:k] + decl + bufs + body[k:]
    open(dst, "w").write(body)
    print(len(added))


if __name__ == "__main__":
    main()
