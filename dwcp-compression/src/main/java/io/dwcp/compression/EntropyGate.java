package io.dwcp.compression;

import java.nio.ByteBuffer;
import java.time.Clock;

/*
 * The incompressible-data gate of one codec: the byte entropy of a 4 KiB sample of a batch's data stream decides
 * whether zstd is tried on it. A high-entropy batch is stored without trying zstd, unless the last trial on such a
 * batch compressed, or reprobe-interval passed since it; so the decision is re-made regularly and never latches.
 *
 * Threading: thread-safe; the workers of concurrent rounds call it. Its two fields are volatile and updated without a
 * lock: batches that arrive together may each take a trial, which costs a zstd attempt and never changes a frame's
 * correctness.
 */
final class EntropyGate {
    private final HdeSettings settings;
    private final Clock clock;
    private volatile long lastHighEntropyTrialMillis = Long.MIN_VALUE / 2;
    private volatile boolean highEntropyCompresses;

    EntropyGate(HdeSettings settings, Clock clock) {
        this.settings = settings;
        this.clock = clock;
    }

    /** Whether zstd is worth trying on the data stream of {@code raw} (after {@code controlLength} control bytes). */
    boolean worthCompressing(ByteBuffer raw, int controlLength, int rawLength) {
        if (!settings.adaptiveEnabled) {
            return true;
        }
        int dataLength = rawLength - controlLength;
        if (dataLength < 4096) {
            return true;
        }
        if (!highEntropy(raw, controlLength, dataLength)) {
            return true;
        }
        if (highEntropyCompresses) {
            return true;
        }
        long now = clock.millis();
        if (now - lastHighEntropyTrialMillis >= settings.reprobeInterval.toMillis()) {
            lastHighEntropyTrialMillis = now;
            highEntropyCompresses = true;
            return true;
        }
        return false;
    }

    /** A trial of a batch did not reach min-ratio: high-entropy batches are stored until the next re-probe. */
    void markIncompressible() {
        highEntropyCompresses = false;
        lastHighEntropyTrialMillis = clock.millis();
    }

    private static boolean highEntropy(ByteBuffer raw, int start, int length) {
        int[] histogram = new int[256];
        int pieces = 64;
        int step = length / pieces;
        int n = 0;
        for (int i = 0; i < pieces; i++) {
            int p = start + i * step;
            for (int j = 0; j < 64 && j < step; j++) {
                histogram[raw.get(p + j) & 0xFF]++;
                n++;
            }
        }
        double entropy = 0;
        for (int c : histogram) {
            if (c > 0) {
                double q = (double) c / n;
                entropy -= q * Math.log(q);
            }
        }
        return entropy / Math.log(2) >= 7.9;
    }
}
