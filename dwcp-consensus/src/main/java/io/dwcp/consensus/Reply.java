package io.dwcp.consensus;

import io.dwcp.core.spi.Consensus.Versioned;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The state machine's answer to one command. Big-endian; documented in {@code docs/consensus.md}.
 *
 * <pre>
 *  offset size field
 *  0      1    status   u8, see {@link Status}
 *  1      8    version  i64, log index that wrote the value (0: absent)
 *  9      4    length   i32, value length, -1 when absent
 *  13     L    value    UTF-8
 * </pre>
 *
 * For MALFORMED, STALE and REFUSED the value field carries the error text instead; for FENCED it carries
 * {@code <epoch>|<layout>}: the group's layout epoch and the layout the scope moved to (empty when this group is not
 * fenced but serves another epoch than the command's guard named).
 *
 * @param status outcome
 * @param current the register after the command (for MALFORMED / STALE: absent)
 * @param error error text for MALFORMED / STALE / REFUSED, {@code <epoch>|<layout>} for FENCED, else {@code null}
 */
record Reply(Status status, Versioned current, String error) {
    static final int STATUS_OFFSET = 0;
    static final int VERSION_OFFSET = 1;
    static final int LENGTH_OFFSET = 9;
    static final int VALUE_OFFSET = 13;

    /** Outcome of a command. */
    enum Status {
        /** Read, written, or CAS applied. */
        OK,
        /** CAS whose expected value did not match; nothing written. */
        NOT_APPLIED,
        /** A retry of a sequence older than the client's de-duplication window; nothing written. */
        STALE,
        /** The command could not be decoded; nothing written. */
        MALFORMED,
        /** A guarded command reached a group that does not serve its epoch (fenced, or another epoch); nothing written. */
        FENCED,
        /** A switch step this group refuses (too soon after the last switch, state too large, a serving group); nothing changed. */
        REFUSED
    }

    Reply {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(current, "current");
    }

    static Reply ok(Versioned current) {
        return new Reply(Status.OK, current, null);
    }

    static Reply error(Status status, String error) {
        return new Reply(status, Versioned.absent(), error);
    }

    byte[] encode() {
        String text = status == Status.OK || status == Status.NOT_APPLIED ? current.value() : error;
        byte[] v = text == null ? null : text.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(VALUE_OFFSET + (v == null ? 0 : v.length));
        b.put((byte) status.ordinal()).putLong(current.version()).putInt(v == null ? -1 : v.length);
        if (v != null) {
            b.put(v);
        }
        return b.array();
    }

    /** Decodes a reply; a reply that does not decode means a version mismatch between client and replica. */
    static Reply decode(ByteBuffer in) {
        ByteBuffer b = in.duplicate();
        try {
            int s = b.get() & 0xff;
            if (s >= Status.values().length) {
                throw new IllegalStateException("unknown reply status " + s);
            }
            Status status = Status.values()[s];
            long version = b.getLong();
            int length = b.getInt();
            if (length < -1 || length > b.remaining()) {
                throw new IllegalStateException("reply value length " + length + " with " + b.remaining() + " bytes left");
            }
            String text = null;
            if (length >= 0) {
                byte[] v = new byte[length];
                b.get(v);
                text = new String(v, StandardCharsets.UTF_8);
            }
            if (status == Status.OK || status == Status.NOT_APPLIED) {
                return new Reply(status, text == null ? Versioned.absent() : new Versioned(text, version), null);
            }
            return error(status, text == null ? "" : text);
        } catch (BufferUnderflowException e) {
            throw new IllegalStateException("reply truncated (" + in.remaining() + " bytes)", e);
        }
    }
}
