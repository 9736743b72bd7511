package io.dwcp.consensus.check;

import java.util.Objects;

/**
 * One operation of a recorded history on a compare-and-set register map: who issued it, what it asked, how it ended
 * and when (call and completion times from one monotonic clock, in nanoseconds).
 *
 * <p>Outcomes follow Knossos: {@link Outcome#OK} completed with a known result; {@link Outcome#FAIL} certainly did
 * not take effect (it is left out of the check); {@link Outcome#INFO} is indeterminate — it may have taken effect at
 * any instant after its call, or never (its completion time is ignored and treated as infinite).
 *
 * @param process the issuing client (each process runs one operation at a time)
 * @param kind READ, WRITE or CAS
 * @param key the register
 * @param expected CAS: the expected value ({@code null}: absent); otherwise {@code null}
 * @param value WRITE and CAS: the new value; READ: {@code null}
 * @param observed with OK: the register value the operation read or left behind (a read's result, the written value,
 *     a CAS's new value if applied, else the value that did not match); {@code null} for absent or not OK
 * @param applied CAS with OK: whether it was applied; otherwise false
 * @param version with OK: the version (fencing token) of {@code observed} (0 when absent or unknown)
 * @param outcome OK, FAIL or INFO
 * @param callNanos when the operation was issued
 * @param returnNanos when its result arrived ({@code Long.MAX_VALUE} for INFO)
 */
public record Operation(int process, Kind kind, String key, String expected, String value, String observed, boolean applied,
                        long version,
                        Outcome outcome, long callNanos, long returnNanos) {
    /** The register operations. */
    public enum Kind {
        /** Reads the register. */
        READ,
        /** Sets the register. */
        WRITE,
        /** Sets the register if it holds the expected value. */
        CAS
    }

    /** How an operation ended. */
    public enum Outcome {
        /** Completed with a known result. */
        OK,
        /** Certainly took no effect. */
        FAIL,
        /** Indeterminate: may take effect at any time after its call, or never. */
        INFO
    }

    /**
     * Checks the fields' consistency.
     *
     * @param process the issuing client
     * @param kind READ, WRITE or CAS
     * @param key the register
     * @param expected CAS: the expected value
     * @param value WRITE and CAS: the new value
     * @param observed with OK: the value read or left behind
     * @param applied CAS with OK: whether it applied
     * @param version with OK: the version of {@code observed}
     * @param outcome OK, FAIL or INFO
     * @param callNanos when it was issued
     * @param returnNanos when its result arrived (replaced by {@code Long.MAX_VALUE} for INFO)
     * @throws IllegalArgumentException when the fields contradict each other
     */
    public Operation {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(outcome, "outcome");
        if (outcome == Outcome.INFO) {
            returnNanos = Long.MAX_VALUE;
        }
        if (returnNanos < callNanos) {
            throw new IllegalArgumentException("operation returns (" + returnNanos + ") before its call (" + callNanos + ")");
        }
        if ((kind != Kind.READ) != (value != null)) {
            throw new IllegalArgumentException(kind + (kind == Kind.READ ? " takes no value" : " needs a value"));
        }
        if (outcome != Outcome.OK && (observed != null || version != 0 || applied)) {
            throw new IllegalArgumentException("only an OK operation has an observed value, a version or applied=true");
        }
    }

    /**
     * A completed read that saw {@code value} ({@code null}: absent).
     *
     * @param process the issuing client
     * @param key the register
     * @param value the value read
     * @param call when it was issued (ns)
     * @param ret when it completed (ns)
     * @return the operation, without a version
     */
    public static Operation read(int process, String key, String value, long call, long ret) {
        return new Operation(process, Kind.READ, key, null, null, value, false, 0, Outcome.OK, call, ret);
    }

    /**
     * A completed write.
     *
     * @param process the issuing client
     * @param key the register
     * @param value the value written
     * @param call when it was issued (ns)
     * @param ret when it completed (ns)
     * @return the operation, without a version
     */
    public static Operation write(int process, String key, String value, long call, long ret) {
        return new Operation(process, Kind.WRITE, key, null, value, value, false, 0, Outcome.OK, call, ret);
    }

    /**
     * A completed compare-and-set and whether it applied (when not applied, the value seen is unknown here).
     *
     * @param process the issuing client
     * @param key the register
     * @param expected the expected value ({@code null}: absent)
     * @param value the new value
     * @param applied whether it applied
     * @param call when it was issued (ns)
     * @param ret when it completed (ns)
     * @return the operation, without a version
     */
    public static Operation cas(int process, String key, String expected, String value, boolean applied, long call, long ret) {
        return new Operation(process, Kind.CAS, key, expected, value, applied ? value : null, applied, 0, Outcome.OK, call, ret);
    }

    /**
     * The same operation with an indeterminate outcome.
     *
     * @return a copy with outcome INFO and no result
     */
    public Operation indeterminate() {
        return new Operation(process, kind, key, expected, value, null, false, 0, Outcome.INFO, callNanos, Long.MAX_VALUE);
    }

    @Override
    public String toString() {
        String what = switch (kind) {
            case READ -> "read" + (outcome == Outcome.OK ? " -> " + observed : "");
            case WRITE -> "write " + value;
            case CAS -> "cas " + expected + " -> " + value + (outcome == Outcome.OK ? (applied ? " applied" : " not applied") : "");
        };
        return "p" + process + " " + key + " " + what + " [" + outcome + " " + callNanos + ".."
                + (returnNanos == Long.MAX_VALUE ? "inf" : String.valueOf(returnNanos)) + "]";
    }
}
