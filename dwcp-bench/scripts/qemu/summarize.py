#!/usr/bin/python3
"""Summarises bench-qemu.sh runs: summarize.py OUT [OUT ...] (the parts of one benchmark, joined).

Per method: runs that completed, total time and downtime (median; mean with its 95 % t-interval; min-max), link MB,
guest checks passed, replicas exact (dwcp). Then DWCP against the best QEMU mode per repetition (the QEMU mode with the
lowest median total time; paired by repetition), the median DWCP downtime breakdown, where DWCP's total time went
(the steps before round 0, each round, the link's idle time between rounds, the switchover) and the CPU seconds each
process used during a migration (when the runs recorded them). Standard library only.
"""
import json, math, statistics, sys

T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}


def load(dirs):
    rs = []
    for d in dirs:
        with open(d + '/results.jsonl') as f:
            for line in f:
                r = json.loads(line)
                r['_dir'] = d
                try:
                    with open('%s/run%02d.migrate.json' % (d, r['run'])) as g:
                        r['_migrate'] = json.loads(g.read())
                except (OSError, ValueError):
                    pass
                rs.append(r)
    return rs


def stats(xs):
    """median, mean, half-width of the 95 % t-interval of the mean (None below 2 values), min, max."""
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    half = None
    if len(xs) > 1:
        half = T95.get(len(xs) - 1, 1.96) * statistics.stdev(xs) / math.sqrt(len(xs))
    return statistics.median(xs), statistics.mean(xs), half, min(xs), max(xs), len(xs)


def fmt(s, f='%.1f'):
    if s is None:
        return 'n/a'
    med, mean, half, lo, hi, n = s
    out = f % med
    if half is not None:
        out += (' (mean ' + f + ' ± ' + f + '; ' + f + '–' + f + ')') % (mean, half, lo, hi)
    return out


def main():
    rs = load(sys.argv[1:])
    methods = list(dict.fromkeys(r['method'] for r in rs))
    print('| method | runs ok | total s: median (mean ± 95 % CI; min–max) | downtime ms | link MB | guest check passed |'
          ' replica exact | forced |')
    print('|---|---|---|---|---|---|---|---|')
    med_total = {}
    for m in methods:
        r = [x for x in rs if x['method'] == m]
        ok = [x for x in r if x.get('ok')]
        st = stats([x.get('total_s') for x in ok])
        med_total[m] = st[0] if st else None
        print('| %s | %d/%d | %s | %s | %s | %d/%d | %s | %s |' % (
            m, len(ok), len(r), fmt(st), fmt(stats([x.get('downtime_ms') for x in ok]), '%.0f'),
            fmt(stats([x.get('link_bytes', 0) / 1e6 for x in ok]), '%.0f'),
            sum(1 for x in ok if x.get('guest_check')), len(r),
            ('%d/%d' % (sum(1 for x in ok if x.get('replica_exact')), len(ok))) if m.startswith('dwcp') else '—',
            sum(1 for x in ok if x.get('forced')) if not m.startswith('dwcp') else '—'))
    qemu = [m for m in methods if not m.startswith('dwcp') and med_total.get(m) is not None]
    best = min(qemu, key=lambda m: med_total[m]) if qemu else None
    if best:
        print()
        print('best QEMU mode by median total time: %s' % best)
    for dm in [m for m in methods if m.startswith('dwcp')] if best else []:
        compare(rs, methods, dm, best)
    for dm in [m for m in methods if m.startswith('dwcp')]:
        breakdown(rs, dm)
    cpu_table(rs, methods)


def compare(rs, methods, dm, best):
    if True:
        for what, key in (('total', 'total_s'), ('downtime', 'downtime_ms')):
            ratios = []
            for rep in sorted(set(x['rep'] for x in rs)):
                d = [x for x in rs if x['method'] == dm and x['rep'] == rep and x.get('ok') and x.get(key)]
                q = [x for x in rs if x['method'] == best and x['rep'] == rep and x.get('ok') and x.get(key)]
                if d and q:
                    ratios.append(d[0][key] / q[0][key])
            if ratios:
                print('%s / %s %s, paired by repetition: %s; %s' % (
                    dm, best, what, ', '.join('%.2f' % x for x in ratios), fmt(stats(ratios), '%.2f')))
        if 'multifd8-zstd' in methods and best != 'multifd8-zstd':
            ratios = []
            for rep in sorted(set(x['rep'] for x in rs)):
                d = [x for x in rs if x['method'] == dm and x['rep'] == rep and x.get('ok') and x.get('downtime_ms')]
                q = [x for x in rs if x['method'] == 'multifd8-zstd' and x['rep'] == rep and x.get('ok') and x.get('downtime_ms')]
                if d and q:
                    ratios.append(d[0]['downtime_ms'] / q[0]['downtime_ms'])
            if ratios:
                print('%s / multifd8-zstd downtime, paired by repetition: %s; %s' % (
                    dm, ', '.join('%.2f' % x for x in ratios), fmt(stats(ratios), '%.2f')))


def breakdown(rs, dm):
    phases = [x['_migrate'].get('downtimePhasesMs') for x in rs if x['method'] == dm and x.get('ok')
              and x.get('_migrate', {}).get('downtimePhasesMs')]
    if phases:
        print()
        print('%s downtime breakdown, median ms over %d runs (min–max):' % (dm, len(phases)))
        for k in phases[0]:
            s = stats([p.get(k) for p in phases])
            print('  %-20s %s' % (k, fmt(s)))
        dw = [x['_migrate'] for x in rs if x['method'] == dm and x.get('ok') and x.get('_migrate')]
        print('  rounds: %s; stop: %s; final round predicted / took (s): %s' % (
            ', '.join(str(len(j['rounds'])) for j in dw), ', '.join(j['stopReason'] for j in dw),
            ', '.join('%.2f/%.2f' % (j.get('predictedFinalRoundSeconds', 0), j['finalRoundSeconds']) for j in dw)))
        print('  round 0 s (encode s): %s' % ', '.join('%.1f (%.1f)' % (j['rounds'][0]['seconds'],
              j['rounds'][0].get('encodeSeconds', 0)) for j in dw))
        print('  round 0 mode, pages (seed bytes): %s' % '; '.join('%s %s (%d)' % (
              j['rounds'][0].get('mode'), j['rounds'][0].get('pages'), j['rounds'][0].get('seedBytes', 0)) for j in dw))
        timed = [j for j in dw if 'startupMs' in j]
        if timed:
            print()
            print('%s total time by step, median s over %d runs (min–max):' % (dm, len(timed)))
            parts = []
            for j in timed:
                p = {}
                for k, v in j['startupMs'].items():
                    p['before: ' + k] = v / 1000
                # the gap before the final round is the switchover (migrate to the pre-switchover pause), listed below
                gaps = j.get('gapBeforeRoundMs', [])[:-1]
                p['idle between rounds'] = sum(gaps) / 1000
                for i, r in enumerate(j['rounds'][:-1]):
                    p['round %d%s' % (i, ' (full)' if r.get('keyframe') else '')] = r['seconds']
                p['pre-copy rounds after 1'] = sum(r['seconds'] for r in j['rounds'][2:-1])
                p['switchover (migrate to STOP)'] = j.get('switchoverToStopMs', 0) / 1000
                p['downtime'] = j['downtimeSeconds']
                p['total'] = j['totalSeconds']
                parts.append(p)
            for k in ['before: ' + k for k in timed[0]['startupMs']] + ['idle between rounds', 'round 0 (full)', 'round 0',
                                                                         'round 1', 'pre-copy rounds after 1',
                                                                         'switchover (migrate to STOP)', 'downtime',
                                                                         'total']:
                print('  %-30s %s' % (k, fmt(stats([p.get(k, 0.0) for p in parts]), '%.3f')))


def cpu_table(rs, methods):
    cpu = [x for x in rs if x.get('ok') and x.get('cpu_s')]
    if cpu:
        print()
        print('CPU seconds during the migration, median per method (min–max):')
        for m in methods:
            c = [x['cpu_s'] for x in cpu if x['method'] == m]
            if c:
                keys = list(dict.fromkeys(k for x in c for k in x))
                print('  %-14s %s' % (m, '; '.join('%s %s' % (k, fmt(stats([x.get(k) for x in c]), '%.2f')) for k in keys)))


if __name__ == '__main__':
    main()
