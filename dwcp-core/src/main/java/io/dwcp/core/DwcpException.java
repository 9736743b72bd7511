package io.dwcp.core;

import java.util.Objects;

/**
 * The one unchecked exception of DWCP. Failures from the network, disk, peers or configuration carry an
 * {@link ErrorCode}; callers react on the code, never on the message. Async APIs complete their futures exceptionally
 * with this type (possibly wrapped in a {@link java.util.concurrent.CompletionException}).
 */
public class DwcpException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The stable code of this failure. */
    private final ErrorCode code;

    /**
     * A failure with a stable code.
     *
     * @param code the code, never {@code null}
     * @param message what failed and what to change
     */
    public DwcpException(ErrorCode code, String message) {
        super(message);
        this.code = Objects.requireNonNull(code, "code");
    }

    /**
     * A failure with a stable code and the exception that caused it.
     *
     * @param code the code, never {@code null}
     * @param message what failed and what to change
     * @param cause the underlying failure, kept as the cause
     */
    public DwcpException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = Objects.requireNonNull(code, "code");
    }

    /** {@return the stable code of this failure} */
    public ErrorCode code() {
        return code;
    }

    @Override
    public String getMessage() {
        return code + ": " + super.getMessage();
    }

    /**
     * Names a failure that happened on this side (not in the peer's data) by its real cause:
     * {@code RESOURCE_EXHAUSTED} for memory (heap or direct) and a full disk, {@code IO_ERROR} for other I/O failures
     * (including a mapped file that was truncated underneath, which the JVM reports as an {@code InternalError}),
     * {@code CANCELLED} for an interrupt, {@code INTERNAL_ERROR} for anything else, which is a defect of this library.
     * A {@code DwcpException} found in the cause chain is returned as it is.
     *
     * @param what what was being done, for the message (e.g. "decoding round 3 of vm-7")
     * @param failure the failure
     * @return the exception
     */
    public static DwcpException local(String what, Throwable failure) {
        DwcpException d = find(failure);
        if (d != null) {
            return d;
        }
        Throwable t = failure;
        while ((t instanceof java.util.concurrent.CompletionException || t instanceof java.util.concurrent.ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof OutOfMemoryError) {
            boolean direct = String.valueOf(t.getMessage()).contains("direct buffer memory");
            return new DwcpException(ErrorCode.RESOURCE_EXHAUSTED, what + " ran out of " + (direct ? "direct memory" : "memory")
                    + " (" + t.getMessage() + "); give the JVM more (" + (direct ? "-XX:MaxDirectMemorySize" : "-Xmx")
                    + ") or run fewer rounds at once", t);
        }
        for (Throwable c = t; c != null; c = c.getCause()) {
            String m = String.valueOf(c.getMessage());
            if ((c instanceof java.io.IOException || c instanceof java.io.UncheckedIOException)
                    && (m.contains("No space left on device") || m.contains("Disk quota exceeded"))) {
                return new DwcpException(ErrorCode.RESOURCE_EXHAUSTED, what + " failed: the disk is full (" + m + ")", t);
            }
        }
        if (t instanceof java.io.IOException || t instanceof java.io.UncheckedIOException) {
            return new DwcpException(ErrorCode.IO_ERROR, what + " failed: " + t.getMessage(), t);
        }
        if (t instanceof InternalError && String.valueOf(t.getMessage()).contains("unsafe memory access")) {
            return new DwcpException(ErrorCode.IO_ERROR, what + " failed: a mapped file was truncated underneath, or the"
                    + " disk filled while writing through a mapping (" + t.getMessage() + ")", t);
        }
        if (t instanceof InterruptedException) {
            return new DwcpException(ErrorCode.CANCELLED, what + " was interrupted", t);
        }
        return new DwcpException(ErrorCode.INTERNAL_ERROR, what + " failed with an unexpected " + t
                + " (a defect of DWCP, not of the peer's data; please report it)", t);
    }

    /**
     * The {@code DwcpException} behind {@code t}, unwrapping {@code CompletionException}/{@code ExecutionException}
     * chains; {@code null} when there is none.
     *
     * @param t the throwable to search, with its causes
     * @return the exception found, or null
     */
    public static DwcpException find(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof DwcpException) {
                return (DwcpException) c;
            }
        }
        return null;
    }
}
