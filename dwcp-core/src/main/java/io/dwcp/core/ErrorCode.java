package io.dwcp.core;

import java.util.HashMap;
import java.util.Map;

/**
 * Stable error codes. Each code has a fixed number that is also carried in abort and error frames on the
 * wire; numbers are never renumbered or reused, new codes are appended. An unrecognised number from the wire maps to
 * {@link #UNKNOWN}.
 */
public enum ErrorCode {
    /** A number received from a peer that this version does not know. */
    UNKNOWN(0),
    /** A configuration value is missing, malformed or out of range; the message names the key. */
    INVALID_CONFIG(1),
    /** The call does not fit the current state (not started, closed, already running). */
    ILLEGAL_STATE(2),
    /** The peer broke the wire protocol (unexpected frame, version or field). */
    PROTOCOL_ERROR(3),
    /** The peer was not authenticated or authorised (TLS certificate refused). */
    AUTH_FAILED(4),
    /** The session is not known (closed, expired or never opened). */
    SESSION_UNKNOWN(5),
    /** A transfer ended before all its bytes arrived. */
    TRANSFER_INCOMPLETE(6),
    /** A frame from the peer is malformed or fails its checksum. */
    CORRUPT_FRAME(7),
    /** Reconstructed data does not match the sender's digest. */
    CHECKSUM_MISMATCH(8),
    /** A delta refers to a baseline this side does not hold; the sender resends in full. */
    BASELINE_MISSING(9),
    /** A frame refers to a compression dictionary this side does not hold. */
    DICTIONARY_MISSING(10),
    /** A size, count or memory limit would be exceeded; the message names the limit and its key. */
    LIMIT_EXCEEDED(11),
    /** An operation did not finish within its timeout. */
    TIMEOUT(12),
    /** Calls to a peer are refused for a while after repeated failures. */
    CIRCUIT_OPEN(13),
    /** This consensus replica is not the leader; retry on the leader. */
    NOT_LEADER(14),
    /** No quorum of consensus replicas answered in time. */
    QUORUM_UNAVAILABLE(15),
    /** The request or data is older than what can be served (a retry past the de-duplication window). */
    STALE(16),
    /** A value's type differs from the type already held for its key. */
    TYPE_MISMATCH(17),
    /** The constraints cannot be met; the message names the tightest one. */
    INFEASIBLE(18),
    /** The operation was cancelled by the caller or by a stop. */
    CANCELLED(19),
    /** An I/O failure of a socket, file or peer that is not one of the more specific codes. */
    IO_ERROR(20),
    /** Another round of the same state key is running (one writer per key, on the sender and the receiver). */
    KEY_BUSY(21),
    /** A local resource ran out: memory (heap or direct), disk space, file handles. Not the peer's fault. */
    RESOURCE_EXHAUSTED(22),
    /** A defect in this library (an unexpected exception); not caused by the peer's data. Please report it. */
    INTERNAL_ERROR(23);

    private static final Map<Integer, ErrorCode> BY_NUMBER = new HashMap<>();

    static {
        for (ErrorCode code : values()) {
            if (BY_NUMBER.put(code.number, code) != null) {
                throw new ExceptionInInitializerError("duplicate error code number " + code.number);
            }
        }
    }

    private final int number;

    ErrorCode(int number) {
        this.number = number;
    }

    /** {@return the wire number of this code} */
    public int number() {
        return number;
    }

    /**
     * The code for a wire number; {@link #UNKNOWN} when this version does not know it.
     *
     * @param number the wire number
     * @return the code
     */
    public static ErrorCode ofNumber(int number) {
        return BY_NUMBER.getOrDefault(number, UNKNOWN);
    }
}
