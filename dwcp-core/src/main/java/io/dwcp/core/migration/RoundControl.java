package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.transport.Transfer;

/**
 * What a cancel of one round must stop: the round's current transfer and the pipe its encoder writes into. One per
 * round, made with its {@link RoundFuture}; {@link MigrationSender} and {@link SeededRounds} register each transfer the
 * round opens ({@link #attach}), the caller's {@code cancel} reaches {@link #cancel}.
 *
 * <p>Thread-safe: {@code transfer} and {@code pipe} are guarded by this object's monitor; {@code cancelled} and
 * {@code changing} are volatile ({@code changing} is set before the round starts and only read after).
 */
final class RoundControl {
    private volatile boolean cancelled;
    /** The state may change while the round reads it (set before the round starts). */
    volatile boolean changing;
    /** Guarded by this. */
    private Transfer transfer;
    /** Guarded by this. */
    private FramePipe pipe;

    boolean cancelled() {
        return cancelled;
    }

    /** Registers the round's (next) transfer; aborts it at once when the round was cancelled meanwhile. */
    synchronized void attach(Transfer t, FramePipe p) {
        transfer = t;
        pipe = p;
        if (cancelled) {
            abort();
        }
    }

    synchronized void cancel() {
        cancelled = true;
        if (transfer != null) {
            abort();
        }
    }

    private void abort() {
        pipe.fail(new DwcpException(ErrorCode.CANCELLED, "round cancelled by the caller"));
        transfer.cancel();
    }
}
