#!/usr/bin/env python3
"""Mutation testing of the INT8 arithmetic: plants each bug of
tools/ci/mutants.txt, one at a time, in a scratch copy of the tree, builds it,
runs the tests and reports which planted bugs no test caught.

    nice tools/ci/mutate.py                      # all mutants, resumes
    tools/ci/mutate.py --list                    # the mutants, nothing run
    tools/ci/mutate.py --only ocl-round-half-up  # one (or more) by id
    tools/ci/mutate.py --fresh                   # forget earlier results

The scratch copy (--work, default /tmp/cfqp-mutate) holds tree/ (the working
tree as it is now, uncommitted changes included, without .git and build
directories), build/ and results.json.  A run resumes: a caught mutant
whose file, find and replace texts and test list are unchanged since its
last result is not run again (survivors always are).  Each mutant's build and test run is killed after
--timeout seconds (a timeout counts as caught: the suite did not pass).
Mutants needing what this machine lacks (requires: avx512vnni, orc,
opencl) are reported as skipped.  Exit status 0 when every applicable
mutant was caught.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_TESTS = ['int8', 'int8-weights', 'int8-cpu', 'int8-cpu-orc-backup', 'int8-backends',
                 'opencl', 'qdq', 'refnets']


def parse_mutants(path):
    """Records of tools/ci/mutants.txt: dicts with id, file, why, requires,
    tests, find, replace."""
    mutants, cur, mode = [], None, None
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    for line in lines:
        if line.startswith('=== '):
            cur = {'id': line[4:].strip(), 'requires': [], 'tests': None,
                   'find': [], 'replace': []}
            mutants.append(cur)
            mode = 'head'
        elif cur is None:
            continue
        elif line == '--- find':
            mode = 'find'
        elif line == '--- replace':
            mode = 'replace'
        elif mode == 'head':
            if not line.strip() or line.startswith('#'):
                continue
            key, _, value = line.partition(':')
            value = value.strip()
            if key == 'requires':
                cur['requires'] = value.split()
            elif key == 'tests':
                cur['tests'] = value.split()
            else:
                cur[key] = value
        else:
            cur[mode].append(line)
    for m in mutants:
        for k in ('find', 'replace'):
            while m[k] and not m[k][-1].strip():
                m[k].pop()
            m[k] = '\n'.join(m[k])
        for k in ('file', 'why'):
            if k not in m:
                sys.exit(f'{path}: mutant {m["id"]} has no {k}')
    ids = [m['id'] for m in mutants]
    if len(set(ids)) != len(ids):
        sys.exit(f'{path}: duplicate mutant ids')
    return mutants


def cpu_flags():
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as f:
            for line in f:
                if line.startswith('flags'):
                    return set(line.split(':', 1)[1].split())
    except OSError:
        pass
    return set()


def available(build):
    """What the scratch build and this machine have, for requires:."""
    have = set()
    flags = cpu_flags()
    if {'avx512_vnni', 'avx512bw', 'avx512vl'} <= flags:
        have.add('avx512vnni')
    try:
        with open(os.path.join(build, 'config.h'), encoding='utf-8') as f:
            cfg = f.read()
    except OSError:
        cfg = ''
    if '#define HAVE_ORC' in cfg:
        have.add('orc')
    if '#define HAVE_OPENCL' in cfg:
        have.add('opencl')
    return have


def sync_tree(tree):
    """The working tree as it is now, without .git and build outputs."""
    os.makedirs(tree, exist_ok=True)
    if shutil.which('rsync'):
        subprocess.run(['rsync', '-a', '--delete', '--exclude=/.git', '--exclude=/build*/',
                        '--exclude=__pycache__', ROOT + '/', tree + '/'], check=True)
    else:
        shutil.rmtree(tree)
        shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns('.git', 'build*',
                                                                  '__pycache__'))


def run(cmd, log, timeout, cwd=None):
    """(returncode or 'timeout', seconds); output appended to log."""
    t0 = time.time()
    log.write(f'$ {" ".join(cmd)}\n')
    log.flush()
    try:
        p = subprocess.run(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        rc = 'timeout'
    return rc, time.time() - t0


def fingerprint(m, original, tests):
    h = hashlib.sha256()
    for part in (m['file'], original, m['find'], m['replace'], ' '.join(tests)):
        h.update(part.encode())
        h.update(b'\0')
    return h.hexdigest()[:16]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--mutants', default=os.path.join(ROOT, 'tools', 'ci', 'mutants.txt'))
    ap.add_argument('--work', default='/tmp/cfqp-mutate')
    ap.add_argument('--timeout', type=int, default=600, help='seconds per mutant step')
    ap.add_argument('--jobs', type=int, default=2, help='ninja -j and meson test processes')
    ap.add_argument('--only', nargs='*', help='mutant ids')
    ap.add_argument('--list', action='store_true')
    ap.add_argument('--fresh', action='store_true', help='forget earlier results')
    args = ap.parse_args()

    mutants = parse_mutants(args.mutants)
    if args.only:
        unknown = set(args.only) - {m['id'] for m in mutants}
        if unknown:
            sys.exit(f'unknown mutant ids: {" ".join(sorted(unknown))}')
        mutants = [m for m in mutants if m['id'] in args.only]
    if args.list:
        for m in mutants:
            req = f' [{" ".join(m["requires"])}]' if m['requires'] else ''
            print(f'{m["id"]:40} {m["file"]:40} {m["why"]}{req}')
        print(f'{len(mutants)} mutants')
        return 0

    tree = os.path.join(args.work, 'tree')
    build = os.path.join(args.work, 'build')
    results_path = os.path.join(args.work, 'results.json')
    os.makedirs(args.work, exist_ok=True)
    results = {}
    if os.path.exists(results_path) and not args.fresh:
        with open(results_path, encoding='utf-8') as f:
            results = json.load(f)
    log = open(os.path.join(args.work, 'mutate.log'), 'a', encoding='utf-8')
    log.write(f'\n=== {time.strftime("%Y-%m-%d %H:%M:%S")} tools/ci/mutate.py\n')

    sync_tree(tree)
    if not os.path.exists(os.path.join(build, 'build.ninja')):
        rc, _ = run(['meson', 'setup', build, tree, '-Dtests=enabled'], log, args.timeout)
        if rc != 0:
            sys.exit(f'meson setup failed: see {args.work}/mutate.log')
    have = available(build)

    def build_and_test(tests):
        rc, t_build = run(['ninja', '-C', build, f'-j{args.jobs}'], log, args.timeout)
        if rc != 0:
            return 'build-error' if rc != 'timeout' else 'caught', t_build, 'build'
        rc, t_test = run(['meson', 'test', '-C', build, '--no-rebuild', '--maxfail', '1',
                          f'--num-processes={args.jobs}', '--print-errorlogs'] + tests,
                         log, args.timeout)
        return ('passed' if rc == 0 else 'caught'), t_build + t_test, \
            'timeout' if rc == 'timeout' else f'rc {rc}'

    # the unmutated tree must pass what the mutants run
    all_tests = sorted({t for m in mutants for t in (m['tests'] or DEFAULT_TESTS)})
    base_key = hashlib.sha256(json.dumps(all_tests).encode()).hexdigest()[:16]
    state, secs, _ = build_and_test(all_tests)
    if state != 'passed':
        sys.exit(f'the unmutated tree does not pass {" ".join(all_tests)}: '
                 f'see {args.work}/mutate.log')
    print(f'baseline: {" ".join(all_tests)} pass ({secs:.0f} s)', flush=True)

    for i, m in enumerate(mutants, 1):
        path = os.path.join(tree, m['file'])
        tests = m['tests'] or DEFAULT_TESTS
        with open(path, encoding='utf-8') as f:
            original = f.read()
        key = fingerprint(m, original, tests)
        prev = results.get(m['id'])
        # a caught mutant is not run again while its file, texts and tests
        # are unchanged; a survivor always is (the tests may have grown)
        if prev and prev.get('key') == key and prev['state'] == 'caught':
            print(f'[{i}/{len(mutants)}] {m["id"]}: {prev["state"]} (earlier run)', flush=True)
            continue
        missing = [r for r in m['requires'] if r not in have]
        n = original.count(m['find'])
        if missing:
            res = {'state': 'skipped', 'detail': 'needs ' + ' '.join(missing)}
        elif n != 1:
            res = {'state': 'stale', 'detail': f'find text occurs {n} times'}
        else:
            log.write(f'\n--- mutant {m["id"]}\n')
            try:
                with open(path, 'w', encoding='utf-8') as f:
                    f.write(original.replace(m['find'], m['replace']))
                state, secs, detail = build_and_test(tests)
            finally:
                with open(path, 'w', encoding='utf-8') as f:
                    f.write(original)
            res = {'state': state, 'detail': detail, 'seconds': round(secs)}
        res['key'] = key
        results[m['id']] = res
        with open(results_path + '.tmp', 'w', encoding='utf-8') as f:
            json.dump(results, f, indent=1)
        os.replace(results_path + '.tmp', results_path)
        print(f'[{i}/{len(mutants)}] {m["id"]}: {res["state"]} ({res.get("detail", "")}'
              f'{", %d s" % res["seconds"] if "seconds" in res else ""})', flush=True)

    # leave the scratch build unmutated
    run(['ninja', '-C', build, f'-j{args.jobs}'], log, args.timeout)

    ids = [m['id'] for m in mutants]
    by = {s: [i for i in ids if results.get(i, {}).get('state') == s]
          for s in ('caught', 'passed', 'skipped', 'stale', 'build-error')}
    applicable = len(by['caught']) + len(by['passed'])
    print(f'\nmutation score: {len(by["caught"])}/{applicable} caught '
          f'({len(by["skipped"])} skipped, {len(by["stale"])} stale, '
          f'{len(by["build-error"])} did not build) of {len(ids)} mutants')
    why = {m['id']: m['why'] for m in mutants}
    for label, state in (('SURVIVED', 'passed'), ('skipped', 'skipped'), ('STALE', 'stale'),
                         ('DID NOT BUILD', 'build-error')):
        for i in by[state]:
            print(f'  {label}: {i}: {why[i]} ({results[i].get("detail", "")})')
    return 0 if not by['passed'] and not by['stale'] and not by['build-error'] else 1


if __name__ == '__main__':
    sys.exit(main())
