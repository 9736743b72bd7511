package io.dwcp.core.transport;

import java.util.concurrent.CompletableFuture;

/** A transfer in progress, as seen by its sender. Thread-safe. */
public interface Transfer {
    /** {@return transfer id, unique within its session} */
    long id();

    /**
     * Completes when the receiver has acknowledged every byte and its sink completed; exceptionally on failure
     * ({@code TRANSFER_INCOMPLETE}, {@code IO_ERROR}, …) or {@code CANCELLED} after {@link #cancel()}.
     *
     * @return the future of the result
     */
    CompletableFuture<TransferResult> completion();

    /** {@return bytes the receiver has acknowledged so far} */
    long acknowledgedBytes();

    /**
     * Aborts the transfer at both ends.
     *
     * @return false if it had already ended
     */
    boolean cancel();
}
