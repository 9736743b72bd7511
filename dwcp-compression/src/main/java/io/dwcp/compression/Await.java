package io.dwcp.compression;

import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/**
 * Waiting for worker tasks before their memory is freed. A failed round frees its scratch (direct memory, mappings)
 * only after every task that may still write into it has ended; an interrupt must not cut that wait short, or a task
 * would write into freed native memory. So these waits ignore interrupts while they wait and restore the thread's
 * interrupt status afterwards.
 */
final class Await {
    private Await() {
    }

    /**
     * Waits until {@code f} has ended (completed, failed or cancelled and no longer running), whatever its outcome;
     * returns whether the thread was interrupted meanwhile (the status is cleared: pass it to {@link #restore}).
     */
    static boolean ended(Future<?> f) {
        boolean interrupted = false;
        for (;;) {
            try {
                f.get();
                return interrupted;
            } catch (ExecutionException | CancellationException e) {
                // Only the end matters here; the round reports its first failure elsewhere. Pitfall: a cancelled
                // FutureTask's get() returns at once although the task may still run, so never cancel tasks that
                // write into memory you are about to free; make them return early instead.
                return interrupted;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
    }

    /** Sets the interrupt status again when {@code interrupted}. */
    static void restore(boolean interrupted) {
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
