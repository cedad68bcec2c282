#!/usr/bin/python3
"""Runs tslab notebooks headlessly with nbclient.

tslab reports a failing cell with an empty error message, so on failure this prints the failing cell's
source and its stderr (where tslab puts the real error). Errors thrown late by async code only show up as
text in a later cell's stderr; those count as failures too. The last line is 'N passed, N failed'.
"""
import argparse
import json
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

LATE_ERROR_MARKERS = ("UncaughtException:", "UnhandledPromiseRejection:")


def stderr_of(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stderr")


def indent(text):
    return "    " + text.rstrip().replace("\n", "\n    ")


def figures_since(t0):
    """Figure files written since t0 (figures/, or .cache/figures-fast/ under FAST=1)."""
    fast = os.environ.get("FAST", "").lower() in ("1", "true", "yes")
    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".cache/figures-fast" if fast else "figures")
    if not os.path.isdir(d):
        return 0
    return sum(1 for f in os.listdir(d) if os.path.getmtime(os.path.join(d, f)) >= t0)


def run(path, timeout, write):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="tslab", allow_errors=False,
                            resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}})
    t0 = time.time()
    error, failing = None, None
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as e:
        error = e
    code_cells = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    if error is not None:
        # nbclient's message quotes the failing cell's source: find that cell.
        for i, c in code_cells:
            if c.source.strip() and c.source in str(error):
                failing = (i, c, type(error).__name__)
                break
    for i, c in code_cells:
        if failing is None and any(m in stderr_of(c) for m in LATE_ERROR_MARKERS):
            failing = (i, c, "late async error, surfaced in this cell")
    if write and error is None and failing is None:
        nbformat.write(nb, path)
    if error is not None or failing is not None:
        # keep what the failing run printed, for a look at the outputs before the failure
        failed = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".cache", "notebooks-failed")
        os.makedirs(failed, exist_ok=True)
        kept = os.path.join(failed, os.path.basename(path))
        nbformat.write(nb, kept)
    dt = time.time() - t0
    if error is None and failing is None:
        print(f"ok   {path} ({dt:.1f}s)", flush=True)
        return True, dt, figures_since(t0)
    print(f"FAIL {path} ({dt:.1f}s); its outputs so far: {os.path.relpath(kept)}")
    if failing:
        i, c, kind = failing
        print(f"  cell #{i} [{kind}]:\n{indent(c.source)}")
        print(f"  stderr:\n{indent(stderr_of(c) or '(none)')}")
        if error is not None:  # the kernel's own report (ename, evalue), which tslab's stderr can lack
            print(f"  error:\n{indent(str(error)[-1500:])}")
    else:
        print(indent(str(error)[:3000]))
    sys.stdout.flush()
    return False, dt, figures_since(t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--timeout", type=int, default=int(os.environ.get("NB_TIMEOUT", "1800")), help="seconds per cell")
    ap.add_argument("--write", action="store_true", help="save the outputs back into the notebooks (only if they pass)")
    ap.add_argument("--summary", help="also write the counts as JSON to this file")
    ap.add_argument("notebooks", nargs="+")
    a = ap.parse_args()
    runs = [(p, *run(p, a.timeout, a.write)) for p in a.notebooks]
    results = [r[1] for r in runs]
    passed = sum(results)
    width = max(len(p) for p in a.notebooks)
    print(f"\n{'notebook'.ljust(width)}  result  seconds  figures written")
    for p, ok, dt, figs in runs:
        print(f"{p.ljust(width)}  {'ok' if ok else 'FAIL':6}  {dt:7.1f}  {figs:15d}")
    print(f"{'total'.ljust(width)}          {sum(r[2] for r in runs):7.1f}  {sum(r[3] for r in runs):15d}\n")
    if a.summary:
        os.makedirs(os.path.dirname(a.summary), exist_ok=True)
        with open(a.summary, "w") as f:
            json.dump({"passed": passed, "failed": len(results) - passed}, f)
    print(f"{passed} passed, {len(results) - passed} failed")
    sys.exit(0 if passed == len(results) else 1)


if __name__ == "__main__":
    main()
