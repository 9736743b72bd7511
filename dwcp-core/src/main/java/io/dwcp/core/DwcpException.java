package io.dwcp.core;

import java.util.Objects;

/**
 * The one unchecked exception of DWCP (CORE-7). Failures from the network, disk, peers or configuration carry an
 * {@link ErrorCode}; callers react on the code, never on the message. Async APIs complete their futures exceptionally
 * with this type (possibly wrapped in a {@link java.util.concurrent.CompletionException}).
 */
public class DwcpException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    public DwcpException(ErrorCode code, String message) {
        super(message);
        this.code = Objects.requireNonNull(code, "code");
    }

    public DwcpException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = Objects.requireNonNull(code, "code");
    }

    /** The stable code of this failure. */
    public ErrorCode code() {
        return code;
    }

    @Override
    public String getMessage() {
        return code + ": " + super.getMessage();
    }

    /**
     * The {@code DwcpException} behind {@code t}, unwrapping {@code CompletionException}/{@code ExecutionException}
     * chains; {@code null} when there is none.
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
