package io.dwcp.core;

/**
 * Progress of a transfer or encode. Called from a library thread, never an event loop, at most every few
 * milliseconds; must not block. A listener that throws is logged and ignored.
 */
@FunctionalInterface
public interface ProgressListener {
    /** A listener that ignores progress. */
    ProgressListener NONE = (done, total) -> { };

    /**
     * @param doneBytes bytes acknowledged by the receiver so far
     * @param totalBytes total, or -1 for a streaming source of unknown length
     */
    void onProgress(long doneBytes, long totalBytes);
}
