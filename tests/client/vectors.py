# SPDX-License-Identifier: MIT
"""What the client tests share: proto/vectors/ in run order, and the
subset rule of PROTOCOL.md "Test vectors" that checks a reply against a
vector's (test_real_client.py over nng, test_gateway.py over HTTP)."""
import glob
import json
import math
import os

ANY = "<any>"


class Fail(Exception):
    pass


def ok(msg):
    print("ok   " + msg, flush=True)


def vector_files(proto):
    """Every vector, relative to 'proto', in run order: fbt, complements,
    stats, errors, event, items, then any other folder by name; files by
    name inside a folder."""
    vdir = os.path.join(proto, "vectors")
    first = ["fbt", "complements", "stats", "errors", "event", "items"]
    dirs = sorted(d for d in os.listdir(vdir)
                  if os.path.isdir(os.path.join(vdir, d)))
    dirs = [d for d in first if d in dirs] + [d for d in dirs
                                              if d not in first]
    out = []
    for d in dirs:
        for f in sorted(glob.glob(os.path.join(vdir, d, "*.json"))):
            out.append(os.path.relpath(f, proto))
    return out


def is_num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def match(exp, got, path, errs):
    """Subset match: every expected key present and equal; lists exact in
    order and length; numbers within 1e-9 relative; "<any>" matches all."""
    if exp == ANY:
        return
    if isinstance(exp, dict):
        if not isinstance(got, dict):
            errs.append("%s: expected a map, got %r" % (path, got))
            return
        for k, v in exp.items():
            if k not in got:
                errs.append("%s.%s: missing (expected %s)" %
                            (path, k, json.dumps(v)))
            else:
                match(v, got[k], "%s.%s" % (path, k), errs)
        return
    if isinstance(exp, list):
        if not isinstance(got, list):
            errs.append("%s: expected a list, got %r" % (path, got))
            return
        if len(exp) != len(got):
            errs.append("%s: expected %d elements, got %d:\n    expected %s"
                        "\n    got      %s" % (path, len(exp), len(got),
                                               json.dumps(exp),
                                               json.dumps(got, default=repr)))
            return
        for i, (e, g) in enumerate(zip(exp, got)):
            match(e, g, "%s[%d]" % (path, i), errs)
        return
    if is_num(exp):
        if not is_num(got):
            errs.append("%s: expected %r, got %r" % (path, exp, got))
        elif isinstance(exp, float) or isinstance(got, float):
            if not math.isclose(exp, got, rel_tol=1e-9, abs_tol=1e-12):
                errs.append("%s: expected %r, got %r" % (path, exp, got))
        elif exp != got:
            errs.append("%s: expected %r, got %r" % (path, exp, got))
        return
    if type(exp) is not type(got) or exp != got:
        errs.append("%s: expected %r, got %r" % (path, exp, got))


def expect(name, exp, got):
    """Raise Fail, naming every difference, unless 'got' matches 'exp'."""
    errs = []
    match(exp, got, "reply", errs)
    if errs:
        raise Fail("%s:\n  %s\n  full reply: %s" % (
            name, "\n  ".join(errs), json.dumps(got, default=repr)))
