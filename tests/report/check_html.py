#!/usr/bin/env python3
"""Parses a report HTML with html.parser and checks it is well formed enough for a browser and complete:
every non-void element closed in order, the SVG charts present, no external resources or scripts, and (with
--synthetic) synthetic data labelled. Exit 0 ok, 1 with the reasons."""
import sys
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# SVG shapes may be self-closed (<rect/>), which html.parser reports through handle_startendtag.


class Checker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.svg_classes, self.text = [], [], [], []
        self.tags = {}

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        a = dict(attrs)
        for k in ("src", "href"):
            if k in a:
                self.errors.append(f"<{tag}> has {k}= (external resource): {a[k]}")
        if tag == "script":
            self.errors.append("page contains a <script>")
        if tag == "link":
            self.errors.append("page contains a <link>")
        if tag == "svg":
            self.svg_classes.append(a.get("class", ""))
        if tag not in VOID:
            self.stack.append((tag, self.getpos()))

    def handle_startendtag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack:
            self.errors.append(f"</{tag}> at {self.getpos()} closes nothing")
            return
        top, pos = self.stack.pop()
        if top != tag:
            self.errors.append(f"</{tag}> at {self.getpos()} closes <{top}> opened at {pos}")

    def handle_data(self, data):
        self.text.append(data)


def main():
    args = sys.argv[1:]
    if not args:
        print("usage: check_html.py REPORT.html [--synthetic] [--sweep]")
        return 2
    path = args[0]
    with open(path, encoding="utf-8") as f:
        html = f.read()
    c = Checker()
    c.feed(html)
    c.close()
    errors = list(c.errors)
    if c.stack:
        errors.append("unclosed: " + ", ".join(f"<{t}> at {p}" for t, p in c.stack))
    if not html.startswith("<!DOCTYPE html>"):
        errors.append("no <!DOCTYPE html>")
    want = ["layer-cycles", "layer-energy", "compare"]
    if "--sweep" in args:
        want.append("pareto")
    for w in want:
        if not any(w in cl.split() for cl in c.svg_classes):
            errors.append(f"no SVG chart of class {w}")
    text = " ".join(c.text)
    if "--synthetic" in args and "synthetic" not in text.lower():
        errors.append("synthetic data is not labelled")
    if "--synthetic" in args and html.count("synthetic data") < 3:
        errors.append("charts are not labelled synthetic")
    for e in errors:
        print(f"{path}: {e}")
    if not errors:
        print(f"{path}: ok ({sum(c.tags.values())} elements, {len(c.svg_classes)} SVG charts)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
