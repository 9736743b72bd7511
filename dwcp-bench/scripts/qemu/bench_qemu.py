#!/usr/bin/python3
"""Live migration of a running QEMU guest: DWCP (dwcp qemu-migrate) vs QEMU's own modes, over the link the caller set
up (bench-qemu.sh makes the emulated WAN). Standard library only. Run by bench-qemu.sh; see there for the options.

Per run: a fresh guest (1 vCPU, TCG) boots on this side, runs its workload and passes its first self-check, warms up
WARMUP s; a destination QEMU starts inside the far namespace with -incoming defer; the method migrates; then the
destination must run and pass a self-check that starts after the migration. Methods:
  dwcp          dwcp receive --into (far side) + dwcp qemu-migrate --verify-replica (replica compared byte for byte
                with the paused source RAM, off the clock)
  dwcp-image    as dwcp, the receiver also given the guest's disk image as the seed of the RAM (--seed-image: the
                destination holds the image, as its QEMU must); the image's description is cached in one directory
                for all runs (the first run computes it); both JVMs with their default compilers (C2 included: the
                seeded round's SHA-256 uses the CPU's SHA instructions only when compiled by C2)
  plain         QEMU precopy, one TCP stream
  xbzrle        QEMU precopy + XBZRLE (cache 256 MiB)
  multifd8      QEMU multifd, 8 channels
  multifd8-zstd QEMU multifd, 8 channels, zstd
QEMU modes get downtime-limit 300 ms (the dwcp budget) and max-bandwidth 10 Gbit/s (no cap below the link); a QEMU
mode not completed after CONVERGE_S s has its downtime-limit raised to 60 s so it completes (labelled 'forced').
"""
import json, os, signal, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import qemuvm  # noqa: E402

OUT = os.environ['OUT']
JAR = os.environ['JAR']
NS = os.environ.get('NS', '')            # far namespace ('' = loopback)
FAR = os.environ.get('FAR', '127.0.0.1')
DEV = os.environ.get('DEV', 'lo')
MEM = os.environ.get('MEM', '1G')
WARMUP = float(os.environ.get('WARMUP', '30'))
CONVERGE_S = float(os.environ.get('CONVERGE_S', '120'))
SNAPSHOT = os.environ.get('SNAPSHOT', '')   # resume every source guest from this saved guest instead of booting it
SAMPLE = 0.5


def log(*a):
    print('[bench-qemu %s]' % time.strftime('%H:%M:%S'), *a, file=sys.stderr, flush=True)


def link_bytes():
    with open('/sys/class/net/%s/statistics/tx_bytes' % DEV) as f:
        tx = int(f.read())
    with open('/sys/class/net/%s/statistics/rx_bytes' % DEV) as f:
        return tx + int(f.read())


def cpu_seconds(pid):
    """utime + stime of a process (its threads included), in seconds; None when it is gone."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')
    except (OSError, IndexError, ValueError):
        return None


def wanem_pid():
    r = subprocess.run(['pgrep', '-x', 'wanem'], capture_output=True, text=True)
    return int(r.stdout.split()[0]) if r.stdout.split() else None


class Cpu:
    """CPU seconds each process of a migration used while it ran (where the machine's two cores went)."""
    def __init__(self, **pids):
        self.pids = {k: v for k, v in pids.items() if v}
        self.t0 = time.time()
        self.c0 = {k: cpu_seconds(v) for k, v in self.pids.items()}

    def add(self, name, pid):
        self.pids[name] = pid
        self.c0[name] = cpu_seconds(pid) or 0.0

    def result(self, **extra):
        out = {}
        for k, v in self.pids.items():
            c = cpu_seconds(v)
            if c is not None and self.c0.get(k) is not None:
                out[k] = round(c - self.c0[k], 2)
        out.update(extra)
        out['wall'] = round(time.time() - self.t0, 2)
        return out


def ns(cmd):
    return (['ip', 'netns', 'exec', NS] if NS else []) + cmd


def boot(tag, incoming):
    cmd = [HERE + '/qemuvm.py', 'boot', '--dir', OUT + '/vm', '--tag', tag, '--mem', MEM, '--timeout', '1200']
    if incoming:
        cmd += ['--incoming'] + (['--netns', NS] if NS else [])
    elif SNAPSHOT:
        cmd += ['--from-snapshot', SNAPSHOT]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])


class Sampler:
    """Link byte counter every SAMPLE s, in a child process-free loop run between the method's own polls."""
    def __init__(self):
        self.t0 = time.time()
        self.b0 = link_bytes()
        self.points = [(0.0, 0)]

    def tick(self):
        self.points.append((time.time() - self.t0, link_bytes() - self.b0))


def run_dwcp(src, dst, run, image=False):
    port = 7800 + (run % 50)
    rlog = open('%s/%s.receive.log' % (OUT, run_tag(run)), 'w')
    seed = ['--seed-image', 'vm=' + qemuvm.CORPUS + '/build/content.ext4'] if image else []
    # A seeded round hashes every page with SHA-256 on both sides; only the C2 compiler uses the CPU's SHA
    # instructions for it (C1 alone runs it about ten times slower), so dwcp-image keeps the JVM's default compilers.
    jit = [] if image else ['-XX:TieredStopAtLevel=1']
    recv = subprocess.Popen(ns(['java'] + jit + ['-jar', JAR, 'receive', '--listen',
                                '%s:%d' % (FAR, port), '--out', OUT + ('/replicas-image' if image else '/replicas-%d' % run),
                                '--into', 'vm=' + dst['ram'], '--plaintext'] + seed),
                            stdout=rlog, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        qemuvm.wait_console(rlog.name, r'listening on', 60, pid=recv.pid)
        cpu = Cpu(receiver=recv.pid, src_qemu=src['pid'], dst_qemu=dst['pid'], wanem=wanem_pid())
        s = Sampler()
        mig = subprocess.Popen(['java'] + jit + ['-jar', JAR, 'qemu-migrate', '--qmp', src['qmp'],
                                '--dest-qmp', dst['qmp'], '--ram', src['ram'], '--to', '%s:%d' % (FAR, port),
                                '--migrate-uri', 'tcp:%s:%d' % (FAR, port + 100), '--key', 'vm', '--plaintext',
                                '--verify-replica', dst['ram'], '--json'],
                               stdout=subprocess.PIPE, stderr=open('%s/%s.migrate.err' % (OUT, run_tag(run)), 'w'),
                               text=True)
        while True:
            time.sleep(SAMPLE)
            s.tick()
            done, status, usage = os.wait4(mig.pid, os.WNOHANG)
            if done:
                mig.returncode = os.waitstatus_to_exitcode(status)
                break
        out = mig.stdout.read().strip().splitlines()
        s.tick()
        res = {'ok': mig.returncode == 0, 'link_bytes': s.points[-1][1], 'timeline': s.points,
               'cpu_s': cpu.result(sender=round(usage.ru_utime + usage.ru_stime, 2))}
        if mig.returncode == 0:
            with open('%s/%s.migrate.json' % (OUT, run_tag(run)), 'w') as f:
                f.write(out[-1] + '\n')
            j = json.loads(out[-1])
            res.update(total_s=j['totalSeconds'], downtime_ms=j['downtimeSeconds'] * 1000, stop=j['stopReason'],
                       tool_bytes=j['dwcpWireBytes'], rounds=len(j['rounds']), replica_exact=j['replicaVerified'],
                       qemu_device_downtime_ms=j.get('qemuDowntimeMs'), verify_s=j.get('verifySeconds'))
        else:
            res['error'] = open('%s/%s.migrate.err' % (OUT, run_tag(run))).read()[-600:]
        return res
    finally:
        os.killpg(recv.pid, 9)
        recv.wait()


def run_qemu(method, src, dst, run):
    port = 7900 + (run % 50)
    qs, qd = qemuvm.QMP(src['qmp']), qemuvm.QMP(dst['qmp'])
    caps = {'xbzrle': method == 'xbzrle', 'multifd': method.startswith('multifd'), 'auto-converge': False}
    for q in (qs, qd):
        q.cmd('migrate-set-capabilities', capabilities=[{'capability': k, 'state': v} for k, v in caps.items()])
        p = {'max-bandwidth': 1250000000, 'downtime-limit': 300}
        if method == 'xbzrle':
            p['xbzrle-cache-size'] = 256 << 20
        if caps['multifd']:
            p.update({'multifd-channels': 8, 'multifd-compression': 'zstd' if method.endswith('zstd') else 'none'})
        q.cmd('migrate-set-parameters', **p)
    qd.cmd('migrate-incoming', uri='tcp:0.0.0.0:%d' % port)
    cpu = Cpu(src_qemu=src['pid'], dst_qemu=dst['pid'], wanem=wanem_pid())
    s = Sampler()
    qs.cmd('migrate', uri='tcp:%s:%d' % (FAR, port))
    forced = False
    while True:
        time.sleep(SAMPLE)
        s.tick()
        st = qs.cmd('query-migrate')
        if st.get('status') in ('completed', 'failed', 'cancelled'):
            break
        if not forced and time.time() - s.t0 > CONVERGE_S:
            qs.cmd('migrate-set-parameters', **{'downtime-limit': 60000})
            forced = True
    # the destination starts by itself once it has loaded everything (the source was running)
    end = time.time() + 60
    while time.time() < end and qd.cmd('query-status')['status'] == 'inmigrate':
        time.sleep(0.05)
    s.tick()
    cpu_s = cpu.result()
    dst_status = qd.cmd('query-status')['status']
    qs.close()
    qd.close()
    res = {'ok': st.get('status') == 'completed' and dst_status == 'running', 'link_bytes': s.points[-1][1],
           'timeline': s.points, 'cpu_s': cpu_s, 'forced': forced, 'status': st.get('status'), 'dst_status': dst_status,
           # QEMU has been seen to report 0 for both on a completed run: that is no figure
           'total_s': st['total-time'] / 1000 if st.get('total-time') else None,
           'downtime_ms': st.get('downtime') or None,
           'tool_bytes': st.get('ram', {}).get('transferred'), 'rounds': st.get('ram', {}).get('dirty-sync-count'),
           'replica_exact': None}
    if st.get('status') != 'completed':
        res['error'] = st.get('error-desc')
    return res


def run_tag(run):
    return 'run%02d' % run


def one(method, rep, run):
    tag = '%s-r%d' % (method, rep)
    src = dst = None
    res = {'method': method, 'rep': rep, 'run': run}
    try:
        src = boot('s' + str(run), False)
        res['boot_s'] = src.get('boot_s')
        time.sleep(WARMUP)
        dst = boot('d' + str(run), True)
        log(tag, 'migrating')
        res['load_before'] = os.getloadavg()[0]     # the machine is shared: the 1-minute load around each run
        res.update(run_dwcp(src, dst, run, method == 'dwcp-image') if method.startswith('dwcp')
                   else run_qemu(method, src, dst, run))
        res['load_after'] = os.getloadavg()[0]
        if res['ok']:
            try:
                c = json.loads(subprocess.run([HERE + '/qemuvm.py', 'wait-check', '--console', dst['console'],
                                               '--timeout', '300'], capture_output=True, text=True).stdout.strip())
                res['guest_check'] = c['ok']
            except (ValueError, KeyError) as e:
                res['guest_check'] = False
                res['check_error'] = str(e)
        else:
            res['guest_check'] = None
    except Exception as e:       # a failed run is a result, not the end of the benchmark
        res.update(ok=False, error=str(e))
    finally:
        for g in (src, dst):
            if g:
                qemuvm.stop(g['pid'], g['ram'], g['qmp'])
    log(tag, {k: v for k, v in res.items() if k != 'timeline'})
    return res


def main():
    # SIGTERM (bench-qemu.sh's trap) unwinds through the finally blocks that stop guests and receivers
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    methods = sys.argv[1].split(',')
    reps = int(sys.argv[2])
    first = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    os.makedirs(OUT + '/vm', exist_ok=True)
    results = []
    run = (first - 1) * len(methods)
    for rep in range(first, first + reps):
        order = methods[(rep - 1) % len(methods):] + methods[:(rep - 1) % len(methods)]   # rotate: alternate positions
        for m in order:
            run += 1
            r = one(m, rep, run)
            results.append(r)
            with open(OUT + '/results.jsonl', 'a') as f:
                f.write(json.dumps(r) + '\n')
            with open('%s/timeline-%s-r%d.csv' % (OUT, m, rep), 'w') as f:
                f.write('seconds,%s Mbit/s\n' % m)
                pts = r.get('timeline', [])
                for (t0, b0), (t1, b1) in zip(pts, pts[1:]):
                    if t1 > t0:
                        f.write('%.2f,%.1f\n' % (t1, (b1 - b0) * 8 / (t1 - t0) / 1e6))


if __name__ == '__main__':
    main()
