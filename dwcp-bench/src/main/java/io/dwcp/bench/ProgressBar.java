package io.dwcp.bench;

import io.dwcp.core.ProgressListener;

/**
 * A one-line progress bar on stderr, drawn only when stderr is a terminal (so logs and pipes stay clean). Redraws at
 * most every 100 ms.
 */
final class ProgressBar implements ProgressListener {
    private final boolean enabled;
    private volatile String label = "";
    private long lastDrawNanos;

    private ProgressBar(boolean enabled) {
        this.enabled = enabled;
    }

    static ProgressBar forTerminal() {
        return new ProgressBar(System.console() != null);
    }

    void label(String label) {
        this.label = label;
    }

    @Override
    public synchronized void onProgress(long doneBytes, long totalBytes) {
        if (!enabled) {
            return;
        }
        long now = System.nanoTime();
        if (now - lastDrawNanos < 100_000_000L && doneBytes < totalBytes) {
            return;
        }
        lastDrawNanos = now;
        int width = 30;
        double f = totalBytes > 0 ? Math.min(1, (double) doneBytes / totalBytes) : 0;
        int filled = (int) (f * width);
        if (totalBytes < 0) {
            // Still encoding: the round's length is not known yet.
            System.err.printf("\r%-20s [%s] %,d MB acknowledged", label, "?".repeat(width), doneBytes / 1_000_000);
            return;
        }
        System.err.printf("\r%-20s [%s%s] %5.1f%% %,d MB", label, "#".repeat(filled), " ".repeat(width - filled), f * 100, doneBytes / 1_000_000);
    }

    /** Ends the bar's line. */
    synchronized void done() {
        if (enabled) {
            System.err.print("\r" + " ".repeat(80) + "\r");
        }
    }
}
