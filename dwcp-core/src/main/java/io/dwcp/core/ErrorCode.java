package io.dwcp.core;

import java.util.HashMap;
import java.util.Map;

/**
 * Stable error codes (CORE-7). Each code has a fixed number that is also carried in abort and error frames on the
 * wire; numbers are never renumbered or reused, new codes are appended. An unrecognised number from the wire maps to
 * {@link #UNKNOWN}.
 */
public enum ErrorCode {
    /** A number received from a peer that this version does not know. */
    UNKNOWN(0),
    INVALID_CONFIG(1),
    ILLEGAL_STATE(2),
    PROTOCOL_ERROR(3),
    AUTH_FAILED(4),
    SESSION_UNKNOWN(5),
    TRANSFER_INCOMPLETE(6),
    CORRUPT_FRAME(7),
    CHECKSUM_MISMATCH(8),
    BASELINE_MISSING(9),
    DICTIONARY_MISSING(10),
    LIMIT_EXCEEDED(11),
    TIMEOUT(12),
    CIRCUIT_OPEN(13),
    NOT_LEADER(14),
    QUORUM_UNAVAILABLE(15),
    STALE(16),
    TYPE_MISMATCH(17),
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

    /** The wire number of this code. */
    public int number() {
        return number;
    }

    /** The code for a wire number; {@link #UNKNOWN} when this version does not know it. */
    public static ErrorCode ofNumber(int number) {
        return BY_NUMBER.getOrDefault(number, UNKNOWN);
    }
}
