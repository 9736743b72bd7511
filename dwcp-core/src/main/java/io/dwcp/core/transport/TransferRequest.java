package io.dwcp.core.transport;

import java.util.Objects;
import io.dwcp.core.ProgressListener;

/**
 * What to send: kind, application key, source and progress listener. Immutable.
 *
 * @param kind what the payload is
 * @param key application key (e.g. the VM id), at most 255 UTF-8 bytes
 * @param source the bytes; owned by the transport once passed to {@link Session#send}
 * @param progress progress callbacks, {@link ProgressListener#NONE} for none
 */
public record TransferRequest(TransferKind kind, String key, PayloadSource source, ProgressListener progress) {
    /**
     * Checks the components.
     *
     * @param kind what the payload is
     * @param key application key (e.g. the VM id), at most 255 UTF-8 bytes
     * @param source the bytes; owned by the transport once passed to {@link Session#send}
     * @param progress progress callbacks, {@link ProgressListener#NONE} for none
     */
    public TransferRequest {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(progress, "progress");
        if (key.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 255) {
            throw new IllegalArgumentException("key must be at most 255 UTF-8 bytes, got " + key.length() + " chars");
        }
    }

    /**
     * A request without progress callbacks.
     *
     * @param kind what the payload is
     * @param key application key (e.g. the VM id), at most 255 UTF-8 bytes
     * @param source the bytes; owned by the transport once passed to {@link Session#send}
     * @return the request
     */
    public static TransferRequest of(TransferKind kind, String key, PayloadSource source) {
        return new TransferRequest(kind, key, source, ProgressListener.NONE);
    }
}
