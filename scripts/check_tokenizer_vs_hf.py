#!/usr/bin/env python3
"""Compares our WordPiece token ids with the Hugging Face `tokenizers` package on every STS-B dev sentence.

usage: check_tokenizer_vs_hf.py FP8SIM_PTQ_BINARY [WORKLOAD]
Runs `fp8sim-ptq tokenize --workload WORKLOAD` (default minilm-l6; one line of ids per sentence, sentence1 and
sentence2 of each pair in file order) and tokenizes the same sentences with
tokenizers.Tokenizer.from_file(<model>/tokenizer.json), truncated to the workload's max_seq_len
(sentence-transformers' max_seq_length: 256 for all-MiniLM-L6-v2, 384 for all-mpnet-base-v2), no padding.
Exit 0: all equal; 1: a mismatch (the first ones are printed); 77: skipped (tokenizers not installed, model
package or ../shared data missing).
"""
import json
import os
import subprocess
import sys

SKIP = 77


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__)
        return 2
    workload = sys.argv[2] if len(sys.argv) == 3 else "minilm-l6"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "workloads", workload + ".json"), encoding="utf-8") as f:
        max_len = json.load(f)["inputs"]["max_seq_len"]
    try:
        from tokenizers import Tokenizer
    except ImportError:
        print("SKIP: the Python package 'tokenizers' is not installed (scripts/setup.sh installs it)")
        return SKIP
    proc = subprocess.run([sys.argv[1], "tokenize", "--workload", workload], capture_output=True, text=True)
    if proc.returncode == 77:
        print("SKIP: " + proc.stderr.strip())
        return SKIP
    if proc.returncode != 0:
        print(proc.stderr)
        return 1
    lines = proc.stdout.splitlines()
    header = lines[0]
    assert header.startswith("# model_dir "), header
    model_dir = header[len("# model_dir "):]
    ours = [[int(t) for t in l.split()] for l in lines[1:]]
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tok.enable_truncation(max_length=max_len)
    tok.no_padding()
    sentences = []
    shared = os.environ.get("FP8SIM_SHARED") or os.path.join(root, "..", "shared")
    with open(os.path.join(shared, "data", "stsb", "sts-dev.tsv"), encoding="utf-8") as f:
        for line in f:
            cols = line.rstrip("\r\n").split("\t")
            if len(cols) >= 7:
                sentences += [cols[5], cols[6]]
    if len(sentences) != len(ours):
        print(f"FAIL: {len(ours)} tokenized sentences from fp8sim-ptq, {len(sentences)} in the file")
        return 1
    bad = 0
    for i, (s, ids) in enumerate(zip(sentences, ours)):
        ref = tok.encode(s).ids
        if ref != ids:
            bad += 1
            if bad <= 5:
                print(f"MISMATCH sentence {i}: {s!r}\n  hf:     {ref}\n  fp8sim: {ids}")
    print(f"{workload}: {len(sentences) - bad} of {len(sentences)} STS-B dev sentences tokenized identically "
          f"(max_length {max_len})")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
