#!/usr/bin/python3
"""QEMU guests for the live-migration tests and benchmark (standard library only).

  qemuvm.py boot --dir D --tag T [--mem 1G] [--incoming] [--netns NS] [--timeout S] [--from-snapshot S]
      Starts a guest (TCG, 1 vCPU) whose RAM is the shared file /dev/shm/dwcp-T.ram, QMP on D/T.qmp, serial console
      in D/T.console; detaches it and prints one JSON line {pid, ram, qmp, console}. A source guest is waited for until
      its workload runs and its self-check list is ready; an --incoming one (-incoming defer) until QMP answers.
      --from-snapshot S: instead of booting, a new QEMU process resumes the guest saved in S (see snapshot) from a
      copy of its RAM and its device state, and runs it; boot_s is then the time the resume took.
  qemuvm.py snapshot --dir D --tag T --out S [--mem 1G] [--warmup SECONDS]
      Boots a guest, lets it run its workload for --warmup s after its first self-check, pauses it and saves it in S:
      ram (a copy of its RAM file) and device.state (QEMU's device state, migrated with x-ignore-shared); then stops
      it. Every guest resumed from S starts from the same memory, a booted, warmed-up guest, in seconds instead of
      minutes.
  qemuvm.py wait-check --console F [--after BYTES] [--timeout S]
      Waits for a self-check that STARTS after byte offset BYTES of the console and prints {check, ok, seconds}; exit 0
      only when it passed. Also requires a workload heartbeat after BYTES.
  qemuvm.py stop --pid P --ram FILE [--qmp SOCK]
      Kills the guest and deletes its RAM file and socket.

The guest image is made by guest-image.sh (needs ../shared/vmcorpus's build cache).
"""
import argparse, json, os, re, signal, socket, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.environ.get('CORPUS', '/var/tmp/vmcorpus')


class QMP:
    def __init__(self, path, timeout=60):
        end = time.time() + timeout
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.connect(path)
                break
            except OSError:
                self.s.close()
                if time.time() > end:
                    raise
                time.sleep(0.2)
        self.s.settimeout(120)
        self.r = self.s.makefile('rb')
        self._read()
        self.cmd('qmp_capabilities')

    def _read(self):
        while True:
            line = self.r.readline()
            if not line:
                raise EOFError('QMP closed')
            msg = json.loads(line)
            if 'event' not in msg:
                return msg

    def cmd(self, execute, **args):
        req = {'execute': execute}
        if args:
            req['arguments'] = args
        self.s.sendall(json.dumps(req).encode() + b'\n')
        r = self._read()
        if 'error' in r:
            raise RuntimeError('%s: %s' % (execute, r['error']))
        return r.get('return')

    def close(self):
        self.r.close()      # the file object holds the socket open too
        self.s.close()


def console(path, after=0):
    try:
        with open(path, 'rb') as f:
            f.seek(after)
            return f.read().decode('utf-8', 'replace')
    except FileNotFoundError:
        return ''


def wait_console(path, pattern, timeout, after=0, pid=None):
    end = time.time() + timeout
    while time.time() < end:
        m = re.search(pattern, console(path, after))
        if m:
            return m
        if pid is not None and not alive(pid):
            raise RuntimeError('qemu %d exited; console tail: %s' % (pid, console(path)[-400:]))
        time.sleep(0.5)
    raise TimeoutError('no %r in %s after %ss' % (pattern, path, timeout))


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().split()[2] != 'Z'
    except OSError:
        return False


def qemu_cmdline(tag, mem, ram, qmp, con, cpio, incoming):
    b = CORPUS + '/build'
    kver = sorted(f[8:] for f in os.listdir(b + '/kern/boot') if f.startswith('vmlinuz-'))[0]
    cmd = ['qemu-system-x86_64', '-name', tag, '-nodefaults', '-display', 'none', '-no-reboot',
           '-accel', 'tcg,thread=multi', '-smp', '1', '-m', mem,
           '-object', 'memory-backend-file,id=mem,size=%s,mem-path=%s,share=on' % (mem, ram),
           '-machine', 'pc,memory-backend=mem',
           '-kernel', '%s/kern/boot/vmlinuz-%s' % (b, kver), '-initrd', cpio,
           '-append', 'console=ttyS0 panic=-1 loglevel=5 corpus.tmpfs_pct=25',
           '-drive', 'file=%s/content.ext4,if=virtio,format=raw,readonly=on' % b,
           '-serial', 'file:' + con,
           '-qmp', 'unix:%s,server=on,wait=off' % qmp]
    if incoming:
        cmd += ['-incoming', 'defer']
    return cmd


def cmd_boot(a, quiet=False):
    cpio = subprocess.run([HERE + '/guest-image.sh'], check=True, capture_output=True, text=True).stdout.strip()
    os.makedirs(a.dir, exist_ok=True)
    ram = '/dev/shm/dwcp-%s.ram' % a.tag
    qmp = os.path.join(a.dir, a.tag + '.qmp')
    con = os.path.join(a.dir, a.tag + '.console')
    for p in (ram, qmp, con):
        if os.path.exists(p):
            os.unlink(p)
    if a.from_snapshot:
        # the RAM file the resumed guest maps: a copy of the saved one (sparse: zero pages stay holes, as after a boot)
        subprocess.run(['cp', '--sparse=always', os.path.join(a.from_snapshot, 'ram'), ram], check=True)
    cmd = qemu_cmdline(a.tag, a.mem, ram, qmp, con, cpio, a.incoming or a.from_snapshot)
    if a.netns:
        cmd = ['ip', 'netns', 'exec', a.netns] + cmd
    with open(os.path.join(a.dir, a.tag + '.stderr'), 'wb') as err:
        p = subprocess.Popen(cmd, stdout=err, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    out = {'pid': p.pid, 'ram': ram, 'qmp': qmp, 'console': con}
    try:
        q = QMP(qmp, 60)
        q.close()
        if a.from_snapshot:
            out['boot_s'] = resume(a, p, ram, qmp)
        elif not a.incoming:
            t0 = time.time()
            wait_console(con, r'CORPUS: WORKLOAD-STARTED', a.timeout, pid=p.pid)
            wait_console(con, r'CORPUS: CHECK 1 OK', a.timeout, pid=p.pid)
            out['boot_s'] = round(time.time() - t0, 1)
    except BaseException:
        stop(p.pid, ram, qmp)
        raise
    if quiet:
        return json.dumps(out)
    print(json.dumps(out), flush=True)


def set_ignore_shared(q):
    q.cmd('migrate-set-capabilities', capabilities=[{'capability': 'x-ignore-shared', 'state': True}])


def wait_migration(q, timeout):
    end = time.time() + timeout
    while True:
        st = q.cmd('query-migrate')
        if st.get('status') == 'completed':
            return st
        if st.get('status') in ('failed', 'cancelled') or time.time() > end:
            raise RuntimeError('migration: %s' % st)
        time.sleep(0.1)


def cmd_snapshot(a):
    a.incoming = False
    a.from_snapshot = None
    g = json.loads(cmd_boot(a, quiet=True))
    try:
        time.sleep(a.warmup)
        os.makedirs(a.out, exist_ok=True)
        q = QMP(g['qmp'])
        q.cmd('stop')
        set_ignore_shared(q)
        q.cmd('migrate', uri='exec:cat > %s' % os.path.join(a.out, 'device.state.tmp'))
        wait_migration(q, 120)
        q.close()
        subprocess.run(['cp', '--sparse=always', g['ram'], os.path.join(a.out, 'ram.tmp')], check=True)
        os.rename(os.path.join(a.out, 'ram.tmp'), os.path.join(a.out, 'ram'))
        os.rename(os.path.join(a.out, 'device.state.tmp'), os.path.join(a.out, 'device.state'))
        with open(os.path.join(a.out, 'meta.json'), 'w') as f:
            json.dump({'mem': a.mem, 'boot_s': g.get('boot_s'), 'warmup_s': a.warmup, 'made': time.strftime('%FT%TZ', time.gmtime())}, f)
    finally:
        stop(g['pid'], g['ram'], g['qmp'])
    print(json.dumps({'snapshot': a.out, 'boot_s': g.get('boot_s')}), flush=True)


def resume(a, p, ram, qmp):
    t0 = time.time()
    q = QMP(qmp, 60)
    set_ignore_shared(q)
    q.cmd('migrate-incoming', uri='exec:cat %s' % os.path.join(a.from_snapshot, 'device.state'))
    end = time.time() + 120
    while q.cmd('query-status')['status'] == 'inmigrate':
        if time.time() > end or not alive(p.pid):
            raise RuntimeError('the guest of %s did not resume' % a.from_snapshot)
        time.sleep(0.1)
    # loaded: the capability was only for the resume; a later migration of this guest chooses its own
    q.cmd('migrate-set-capabilities', capabilities=[{'capability': 'x-ignore-shared', 'state': False}])
    q.cmd('cont')
    q.close()
    return round(time.time() - t0, 1)


def cmd_wait_check(a):
    t0 = time.time()
    # the first check that starts after the offset, and its verdict
    m = wait_console(a.console, r'CORPUS: CHECK (\d+) START', a.timeout, a.after)
    n = m.group(1)
    v = wait_console(a.console, r'CORPUS: CHECK %s (OK|FAIL)' % n, a.timeout, a.after)
    hb = wait_console(a.console, r'CORPUS: HEARTBEAT[^\n]*', a.timeout, a.after)
    res = {'check': int(n), 'ok': v.group(1) == 'OK', 'seconds': round(time.time() - t0, 1), 'heartbeat': hb.group(0)[:200]}
    print(json.dumps(res), flush=True)
    return 0 if res['ok'] else 1


def stop(pid, ram, qmp=None):
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    for _ in range(100):
        if not alive(pid):
            break
        time.sleep(0.05)
    for p in (ram, qmp):
        if p and os.path.exists(p):
            os.unlink(p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('what', choices=['boot', 'snapshot', 'wait-check', 'stop'])
    ap.add_argument('--dir')
    ap.add_argument('--tag')
    ap.add_argument('--mem', default='1G')
    ap.add_argument('--incoming', action='store_true')
    ap.add_argument('--netns')
    ap.add_argument('--timeout', type=float, default=600)
    ap.add_argument('--console')
    ap.add_argument('--after', type=int, default=0)
    ap.add_argument('--pid', type=int)
    ap.add_argument('--ram')
    ap.add_argument('--qmp')
    ap.add_argument('--from-snapshot')
    ap.add_argument('--out')
    ap.add_argument('--warmup', type=float, default=30)
    a = ap.parse_args()
    if a.what == 'boot':
        cmd_boot(a)
    elif a.what == 'snapshot':
        cmd_snapshot(a)
    elif a.what == 'wait-check':
        sys.exit(cmd_wait_check(a))
    else:
        stop(a.pid, a.ram, a.qmp)


if __name__ == '__main__':
    main()
