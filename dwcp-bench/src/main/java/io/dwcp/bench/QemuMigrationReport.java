package io.dwcp.bench;

import io.dwcp.core.migration.Migration;
import io.dwcp.core.migration.RoundReport;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/*
 * What {@code dwcp qemu-migrate} measured and prints: the steps before round 0 (Startup), where the pause went
 * (Phases), and the summary (print). Plain values and printing; no state beyond a Startup's marks, which only the
 * command's thread writes. Used by QemuMigrationRun.
 */
final class QemuMigrationReport {
    private QemuMigrationReport() {
    }

    /**
     * Prints the result of a migration: a summary line, the downtime's phases and what came before round 0 (or, with
     * {@code json}, one JSON object on the last stdout line).
     */
    static void print(String key, boolean json, Migration.Result result, List<RoundReport> rounds, Map<String, Object> qemu,
                      double total, Phases p, double verifySeconds, Startup startup, List<Long> roundEnds) {
        // Between rounds: the link idles from one round's end (its commit seen here) to the next round's start.
        List<Double> gaps = new ArrayList<>();
        long previous = startup.last();
        for (int i = 0; i < rounds.size() && i < roundEnds.size(); i++) {
            long began = roundEnds.get(i) - rounds.get(i).duration().toNanos();
            gaps.add((began - previous) / 1e6);
            previous = roundEnds.get(i);
        }
        long wire = 0;
        for (RoundReport r : rounds) {
            wire += r.wireBytes();
        }
        double down = p.downtimeNanos() / 1e9;
        Object qemuBytes = qemu.get("ram") instanceof Map<?, ?> r ? r.get("transferred") : null;
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("key", key);
            m.put("stopReason", result.stopReason());
            m.put("predictedFinalRoundSeconds", result.predictedFinalRound().toNanos() / 1e9);
            m.put("totalSeconds", total);
            m.put("downtimeSeconds", down);
            m.put("finalRoundSeconds", result.downtime().toNanos() / 1e9);
            m.put("downtimePhasesMs", p.downtimeMillis());
            m.put("switchoverToStopMs", p.switchToStop() / 1e6);
            m.put("startupMs", startup.millis());
            m.put("gapBeforeRoundMs", gaps);
            m.put("dwcpWireBytes", wire);
            m.put("qemuTransferredBytes", qemuBytes);
            m.put("qemuDowntimeMs", qemu.get("downtime"));
            m.put("verifySeconds", verifySeconds < 0 ? null : verifySeconds);
            m.put("replicaVerified", verifySeconds >= 0);
            List<Object> rs = new ArrayList<>();
            for (RoundReport r : rounds) {
                Map<String, Object> j = SendCommand.toJson(r, null);
                j.put("encodeSeconds", r.encodeDuration().toNanos() / 1e9);
                rs.add(j);
            }
            m.put("rounds", rs);
            System.out.println(Json.write(m));
        } else {
            System.out.printf("migrated %s: %d round(s) (stop: %s, final round predicted %.3f s), %,d DWCP wire bytes,"
                    + " total %.2f s, downtime %.3f s (source stop to destination running; final round %.3f s)%s%n",
                    key, rounds.size(), result.stopReason(), result.predictedFinalRound().toNanos() / 1e9, wire,
                    total, down, result.downtime().toNanos() / 1e9, verifySeconds < 0 ? ""
                            : String.format(", replica byte-exact (compared in %.2f s, not counted)", verifySeconds));
            StringBuilder b = new StringBuilder("downtime breakdown (ms):");
            p.downtimeMillis().forEach((k, v) -> b.append(String.format(" %s %.1f,", k, v)));
            b.setLength(b.length() - 1);
            System.out.println(b + String.format("; before it, migrate to STOP %.1f ms (the guest ran)", p.switchToStop() / 1e6));
            StringBuilder s = new StringBuilder("before round 0 (ms):");
            startup.millis().forEach((k, v) -> s.append(String.format(" %s %.1f,", k, v)));
            s.setLength(s.length() - 1);
            System.out.println(s + "; link idle before each round (ms): " + gaps.stream()
                    .map(g -> String.format("%.1f", g)).collect(java.util.stream.Collectors.joining(", ")));
        }
    }

    /** What the command did before round 0 began, in order: each step's time since the previous one. */
    static final class Startup {
        private final Map<String, Long> marks = new LinkedHashMap<>();
        private long last;

        Startup(long start) {
            this.last = start;
        }

        void mark(String step) {
            long now = System.nanoTime();
            marks.put(step, now - last);
            last = now;
        }

        long last() {
            return last;
        }

        Map<String, Double> millis() {
            Map<String, Double> m = new LinkedHashMap<>();
            marks.forEach((k, v) -> m.put(k, v / 1e6));
            return m;
        }
    }

    /**
     * Where the time of a migration's pause went (nanoseconds). The downtime runs from the source's STOP to the
     * destination seen running, less the replica comparison of {@code --verify-replica}.
     *
     * @param switchToStop {@code migrate} sent to the guest stopped (QEMU connecting to the destination; the guest runs)
     * @param stopToPaused STOP to the pre-switchover pause seen here
     * @param result the loop's result (its final round and the time from the pause to its commit)
     * @param commitToContinue the final round's commit to {@code migrate-continue} sent (less the comparison)
     * @param continueToSourceDone {@code migrate-continue} to the source's migration completed (device state sent)
     * @param sourceDoneToRunning that to the destination seen running (device state loaded, guest started)
     * @param downtimeNanos the whole pause
     */
    record Phases(long switchToStop, long stopToPaused, Migration.Result result, long commitToContinue,
                  long continueToSourceDone, long sourceDoneToRunning, long downtimeNanos) {
        /** {@return the phases of the pause in order, in milliseconds; {@code other} is what none of them covers} */
        Map<String, Double> downtimeMillis() {
            RoundReport f = result.finalRound();
            long encode = f.encodeDuration().toNanos();
            long transfer = f.duration().toNanos() - encode;
            long roundStart = result.downtime().toNanos() - f.duration().toNanos();
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("stop", stopToPaused / 1e6);
            m.put("finalRoundStart", roundStart / 1e6);
            m.put("finalScanEncode", encode / 1e6);
            m.put("finalTransferCommit", transfer / 1e6);
            m.put("toContinue", commitToContinue / 1e6);
            m.put("deviceState", continueToSourceDone / 1e6);
            m.put("destinationStart", sourceDoneToRunning / 1e6);
            long named = stopToPaused + roundStart + encode + transfer + commitToContinue + continueToSourceDone
                    + sourceDoneToRunning;
            m.put("other", (downtimeNanos - named) / 1e6);
            return m;
        }
    }
}
