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
Mutants needing what this machine lacks (requires: avx512vnni, avx2, orc,
opencl) are reported as skipped.  Exit status 0 when every applicable
mutant was caught.

A mutant with an `arm:` line (qemu CPU models, e.g. `arm: cortex-a76 max`)
runs on 64-bit ARM instead: build-arm64/ in the scratch copy is a cross
build (tools/ci/cross/aarch64-linux-gnu.ini), rebuilt incrementally for the
executables of the mutant's tests only, which then run under
`QEMU_CPU=MODEL meson test` once per model (caught as soon as one fails).
It needs the cross toolchain and qemu-user (tools/ci/test-arm64.sh installs
them); without them it is skipped, never counted as caught.
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
    tests, arm (qemu CPU models; empty: a native mutant), find, replace."""
    mutants, cur, mode = [], None, None
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    for line in lines:
        if line.startswith('=== '):
            cur = {'id': line[4:].strip(), 'requires': [], 'tests': None, 'arm': [],
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
            if key in ('requires', 'arm'):
                cur[key] = value.split()
            elif key == 'tests':
                cur['tests'] = value.split()
            else:
                cur[key] = value
        else:
            cur[mode].append(line)
    for m in mutants:
        for k in ('find', 'replace'):
            block = m[k]
            while block and not block[-1].strip():
                block.pop()
            # a comment between records ("# " lines after a blank line at the
            # end of a block) belongs to no text: it once reached the files
            # as an invalid preprocessing directive, and a mutant that fails
            # to build or to compile its OpenCL source is not a caught bug
            end = len(block)
            while end and block[end - 1].startswith('# '):
                end -= 1
            if end < len(block) and end and not block[end - 1].strip():
                del block[end:]
                while block and not block[-1].strip():
                    block.pop()
            m[k] = '\n'.join(block)
        for k in ('file', 'why'):
            if k not in m:
                sys.exit(f'{path}: mutant {m["id"]} has no {k}')
    for m in mutants:
        if m['arm'] and not m['tests']:
            sys.exit(f'{path}: ARM mutant {m["id"]} names no tests')
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


ARM_TOOLS = ('aarch64-linux-gnu-gcc', 'qemu-aarch64-static')


def available(build):
    """What the scratch build and this machine have, for requires: (and
    'arm64' for the arm: mutants)."""
    have = set()
    if all(shutil.which(t) for t in ARM_TOOLS):
        have.add('arm64')
    flags = cpu_flags()
    if {'avx512_vnni', 'avx512bw', 'avx512vl'} <= flags:
        have.add('avx512vnni')
    if {'avx2', 'fma'} <= flags:
        have.add('avx2')
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


def run(cmd, log, timeout, cwd=None, env=None):
    """(returncode or 'timeout', seconds); output appended to log."""
    t0 = time.time()
    log.write(f'$ {" ".join(f"{k}={v}" for k, v in (env or {}).items())}{" " if env else ""}'
              f'{" ".join(cmd)}\n')
    log.flush()
    try:
        p = subprocess.run(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, timeout=timeout,
                           env=dict(os.environ, **env) if env else None)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        rc = 'timeout'
    return rc, time.time() - t0


def test_targets(build, tests):
    """The ninja targets (executables) of the named meson tests."""
    out = subprocess.run(['meson', 'introspect', '--tests', build], check=True,
                         capture_output=True, text=True).stdout
    targets = set()
    for t in json.loads(out):
        if t['name'] in tests:
            targets.update(os.path.relpath(c, build) for c in t['cmd']
                           if c.startswith(build + os.sep))
    missing = set(tests) - {t['name'] for t in json.loads(out)}
    if missing:
        sys.exit(f'{build}: no tests named {" ".join(sorted(missing))}')
    return sorted(targets)


def fingerprint(m, original, tests):
    h = hashlib.sha256()
    for part in (m['file'], original, m['find'], m['replace'], ' '.join(tests),
                 ' '.join(m['arm'])):
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

    args.work = os.path.abspath(args.work)
    mutants = parse_mutants(args.mutants)
    if args.only:
        unknown = set(args.only) - {m['id'] for m in mutants}
        if unknown:
            sys.exit(f'unknown mutant ids: {" ".join(sorted(unknown))}')
        mutants = [m for m in mutants if m['id'] in args.only]
    if args.list:
        for m in mutants:
            req = m['requires'] + ([f'qemu -cpu {c}' for c in m['arm']])
            req = f' [{", ".join(req)}]' if req else ''
            print(f'{m["id"]:40} {m["file"]:40} {m["why"]}{req}')
        print(f'{len(mutants)} mutants')
        return 0

    tree = os.path.join(args.work, 'tree')
    build = os.path.join(args.work, 'build')
    build_arm = os.path.join(args.work, 'build-arm64')
    results_path = os.path.join(args.work, 'results.json')
    os.makedirs(args.work, exist_ok=True)
    results = {}
    if os.path.exists(results_path) and not args.fresh:
        with open(results_path, encoding='utf-8') as f:
            results = json.load(f)
    log = open(os.path.join(args.work, 'mutate.log'), 'a', encoding='utf-8')
    log.write(f'\n=== {time.strftime("%Y-%m-%d %H:%M:%S")} tools/ci/mutate.py\n')

    sync_tree(tree)
    native = [m for m in mutants if not m['arm']]
    if native and not os.path.exists(os.path.join(build, 'build.ninja')):
        rc, _ = run(['meson', 'setup', build, tree, '-Dtests=enabled'], log, args.timeout)
        if rc != 0:
            sys.exit(f'meson setup failed: see {args.work}/mutate.log')
    have = available(build)
    arm = 'arm64' in have and [m for m in mutants if m['arm']]
    if arm and not os.path.exists(os.path.join(build_arm, 'build.ninja')):
        rc, _ = run(['meson', 'setup', build_arm, tree, '-Dtests=enabled', '--cross-file',
                     os.path.join(tree, 'tools', 'ci', 'cross', 'aarch64-linux-gnu.ini')],
                    log, args.timeout)
        if rc != 0:
            sys.exit(f'meson setup (ARM64 cross build) failed: see {args.work}/mutate.log')

    def build_and_test(tests, cpus=()):
        """Native, or cross-built and run under qemu once per CPU model."""
        if cpus:
            rc, t_build = run(['ninja', '-C', build_arm, f'-j{args.jobs}'] +
                              test_targets(build_arm, tests), log, args.timeout)
        else:
            rc, t_build = run(['ninja', '-C', build, f'-j{args.jobs}'], log, args.timeout)
        if rc != 0:
            return 'build-error' if rc != 'timeout' else 'caught', t_build, 'build'
        secs = t_build
        for cpu in cpus or [None]:
            rc, t_test = run(['meson', 'test', '-C', build_arm if cpu else build, '--no-rebuild',
                              '--maxfail', '1', f'--num-processes={args.jobs}',
                              '--print-errorlogs'] +
                             (['--timeout-multiplier', '4'] if cpu else []) + tests,
                             log, args.timeout, env={'QEMU_CPU': cpu} if cpu else None)
            secs += t_test
            if rc != 0:
                return 'caught', secs, ('timeout' if rc == 'timeout' else f'rc {rc}') + \
                    (f' on {cpu}' if cpu else '')
        return 'passed', secs, 'rc 0'

    # the unmutated tree must pass what the mutants run
    all_tests = sorted({t for m in native for t in (m['tests'] or DEFAULT_TESTS)})
    if all_tests:
        state, secs, _ = build_and_test(all_tests)
        if state != 'passed':
            sys.exit(f'the unmutated tree does not pass {" ".join(all_tests)}: '
                     f'see {args.work}/mutate.log')
        print(f'baseline: {" ".join(all_tests)} pass ({secs:.0f} s)', flush=True)
    if arm:
        arm_tests = sorted({t for m in arm for t in m['tests']})
        cpus = sorted({c for m in arm for c in m['arm']})
        state, secs, detail = build_and_test(arm_tests, cpus)
        if state != 'passed':
            sys.exit(f'the unmutated ARM64 build does not pass {" ".join(arm_tests)} '
                     f'({detail}): see {args.work}/mutate.log')
        print(f'baseline ARM64 (qemu -cpu {" ".join(cpus)}): {" ".join(arm_tests)} pass '
              f'({secs:.0f} s)', flush=True)

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
        missing = [r for r in m['requires'] + (['arm64'] if m['arm'] else []) if r not in have]
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
                state, secs, detail = build_and_test(tests, m['arm'])
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

    # leave the scratch builds unmutated
    if native:
        run(['ninja', '-C', build, f'-j{args.jobs}'], log, args.timeout)
    if arm:
        run(['ninja', '-C', build_arm, f'-j{args.jobs}'] +
            test_targets(build_arm, sorted({t for m in arm for t in m['tests']})),
            log, args.timeout)

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
