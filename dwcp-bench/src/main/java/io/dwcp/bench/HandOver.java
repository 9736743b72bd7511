package io.dwcp.bench;

import io.dwcp.core.spi.Consensus;
import io.dwcp.core.spi.Consensus.CasResult;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The hand-over that ends a migration of {@code dwcp send --hand-over}: the VM's owner register moves from the source
 * site to the destination by a fenced compare-and-set through consensus. A VM that has no owner yet is first claimed
 * by the source (compare-and-set from absent), so the first migration of a VM needs no set-up.
 */
final class HandOver {
    private static final long TIMEOUT_S = 120;

    private HandOver() {
    }

    /** Commits the hand-over; the result map has {@code applied}, {@code owner}, {@code version}, {@code millis}. */
    static Map<String, Object> commit(Consensus consensus, String vmId, String from, String to) throws Exception {
        long t0 = System.nanoTime();
        consensus.compareAndSet(Consensus.ownerKey(vmId), null, from).get(TIMEOUT_S, TimeUnit.SECONDS); // claim if unowned
        CasResult r = consensus.handOver(vmId, from, to).get(TIMEOUT_S, TimeUnit.SECONDS);
        double ms = (System.nanoTime() - t0) / 1e6;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("applied", r.applied());
        m.put("owner", r.current().value());
        m.put("version", r.current().version());
        m.put("millis", ms);
        System.out.printf("hand-over of %s from %s to %s: %s (owner %s, fencing token %d) in %.1f ms%n", vmId, from, to,
                r.applied() ? "committed" : "REFUSED", r.current().value(), r.current().version(), ms);
        return m;
    }
}
