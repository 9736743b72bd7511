package io.dwcp.consensus;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * One register command as it travels in a Raft log entry. Big-endian; documented in {@code docs/consensus.md}.
 *
 * <pre>
 *  offset size field
 *  0      1    version      u8, {@link #CURRENT_VERSION}
 *  1      1    type         u8, 1 READ, 2 WRITE, 3 CAS
 *  2      8    clientHigh   i64, client id (most significant half)
 *  10     8    clientLow    i64, client id (least significant half)
 *  18     8    sequence     i64, &gt; 0: de-duplicated per client; 0: not de-duplicated (reads)
 *  26     2    keyLength    u16, 1–{@link #MAX_KEY_BYTES}
 *  28     K    key          UTF-8
 *  28+K   1    flags        bit 0 expected present, bit 1 value present, bit 2 layout guard present, other
 *                           bits reserved (zero)
 *  ...    8    guard epoch  i64 &gt;= 0, when flagged: the layout epoch the client believes current
 *  ...    1+O  guard origin u8 length (0–64) + UTF-8: the client's region (may be empty), when flagged
 *  ...    4+E  expected     i32 length + UTF-8, when flagged
 *  ...    4+V  value        i32 length + UTF-8, when flagged
 * </pre>
 *
 * A READ has neither expected nor value, a WRITE a value only, a CAS a value and optionally an expected value (absent
 * expected: "the key is absent"). The two switch commands (see {@link LayoutState}) carry both fields and no guard:
 * FENCE (key: the layout switched to; expected: the epoch fenced, decimal; value: {@code proposerMillis/minIntervalMillis/maxStateBytes})
 * and SEED (key: the layout switched from; expected: the new epoch, decimal; value: the fenced state, Base64).
 * Anything else, trailing bytes included, is malformed.
 *
 * @param type the operation
 * @param clientHigh client id, high half
 * @param clientLow client id, low half
 * @param sequence per-client sequence, 0 when not de-duplicated
 * @param key the register
 * @param expected CAS only: the value expected, {@code null} for "absent"
 * @param value WRITE and CAS: the new value; {@code null} for READ
 * @param guard the layout guard of a command sent through a switching scope ({@link SwitchingConsensus}), else
 *        {@code null}
 */
record Command(Type type, long clientHigh, long clientLow, long sequence, String key, String expected, String value,
               Guard guard) {
    static final int CURRENT_VERSION = 1;
    static final int MAX_KEY_BYTES = 256;
    static final int VERSION_OFFSET = 0;
    static final int TYPE_OFFSET = 1;
    static final int CLIENT_HIGH_OFFSET = 2;
    static final int CLIENT_LOW_OFFSET = 10;
    static final int SEQUENCE_OFFSET = 18;
    static final int KEY_LENGTH_OFFSET = 26;
    static final int KEY_OFFSET = 28;
    static final int FLAG_EXPECTED = 1;
    static final int FLAG_VALUE = 2;
    static final int FLAG_GUARD = 4;
    static final int MAX_ORIGIN_BYTES = 64;

    /**
     * The layout a command is meant for: applied only while the group serves that epoch of the scope (else the reply
     * is FENCED and nothing changes).
     *
     * @param epoch the epoch the client believes current
     * @param origin the client's region ("" when unknown), counted for the layout choice
     */
    record Guard(long epoch, String origin) {
        Guard {
            Objects.requireNonNull(origin, "origin");
            if (epoch < 0) {
                throw new IllegalArgumentException("guard epoch must be >= 0, got " + epoch);
            }
            if (origin.getBytes(StandardCharsets.UTF_8).length > MAX_ORIGIN_BYTES) {
                throw new IllegalArgumentException("origin must be at most " + MAX_ORIGIN_BYTES + " UTF-8 bytes");
            }
        }
    }

    /** A command without a layout guard. */
    Command(Type type, long clientHigh, long clientLow, long sequence, String key, String expected, String value) {
        this(type, clientHigh, clientLow, sequence, key, expected, value, null);
    }

    /** The three operations of the register, and the two steps of a layout switch. */
    enum Type {
        READ(1), WRITE(2), CAS(3), FENCE(4), SEED(5);

        final int code;

        Type(int code) {
            this.code = code;
        }

        static Type of(int code) {
            for (Type t : values()) {
                if (t.code == code) {
                    return t;
                }
            }
            throw new MalformedCommandException("unknown command type " + code + " (expected 1 READ, 2 WRITE, 3 CAS, 4 FENCE or 5 SEED)");
        }
    }

    Command {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(key, "key");
        int keyBytes = key.getBytes(StandardCharsets.UTF_8).length;
        if (keyBytes < 1 || keyBytes > MAX_KEY_BYTES) {
            throw new IllegalArgumentException("key must be 1–" + MAX_KEY_BYTES + " UTF-8 bytes, got " + keyBytes);
        }
        if (sequence < 0) {
            throw new IllegalArgumentException("sequence must be >= 0, got " + sequence);
        }
        switch (type) {
            case READ -> {
                if (expected != null || value != null) {
                    throw new IllegalArgumentException("a READ carries no expected value and no value");
                }
            }
            case WRITE -> {
                if (expected != null || value == null) {
                    throw new IllegalArgumentException("a WRITE carries a value and no expected value");
                }
            }
            case CAS -> {
                if (value == null) {
                    throw new IllegalArgumentException("a CAS carries a new value");
                }
            }
            case FENCE, SEED -> {
                if (expected == null || value == null || guard != null || sequence != 0) {
                    throw new IllegalArgumentException("a " + type + " carries an epoch and a value, no guard and no sequence");
                }
                try {
                    if (Long.parseLong(expected) < 0) {
                        throw new IllegalArgumentException("a " + type + "'s epoch must be >= 0, got " + expected);
                    }
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("a " + type + "'s epoch must be a decimal number, got '" + expected + "'");
                }
            }
            default -> throw new AssertionError(type);
        }
    }

    /** Encodes into a new array (commands are small and outlive the call: they go into the log). */
    byte[] encode() {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        byte[] e = expected == null ? null : expected.getBytes(StandardCharsets.UTF_8);
        byte[] v = value == null ? null : value.getBytes(StandardCharsets.UTF_8);
        byte[] o = guard == null ? null : guard.origin().getBytes(StandardCharsets.UTF_8);
        long size = (long) KEY_OFFSET + k.length + 1 + (o == null ? 0 : 9L + o.length) + (e == null ? 0 : 4L + e.length)
                + (v == null ? 0 : 4L + v.length);
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("command of " + size + " bytes cannot be encoded");
        }
        ByteBuffer b = ByteBuffer.allocate((int) size);
        b.put((byte) CURRENT_VERSION).put((byte) type.code).putLong(clientHigh).putLong(clientLow).putLong(sequence)
                .putShort((short) k.length).put(k)
                .put((byte) ((e != null ? FLAG_EXPECTED : 0) | (v != null ? FLAG_VALUE : 0) | (o != null ? FLAG_GUARD : 0)));
        if (o != null) {
            b.putLong(guard.epoch()).put((byte) o.length).put(o);
        }
        if (e != null) {
            b.putInt(e.length).put(e);
        }
        if (v != null) {
            b.putInt(v.length).put(v);
        }
        return b.array();
    }

    /**
     * Decodes a command.
     *
     * @throws MalformedCommandException naming what is wrong; never any other exception
     */
    static Command decode(ByteBuffer in) {
        ByteBuffer b = in.duplicate();
        try {
            int version = b.get() & 0xff;
            if (version != CURRENT_VERSION) {
                throw new MalformedCommandException("unsupported command version " + version + " (this node reads " + CURRENT_VERSION + ")");
            }
            Type type = Type.of(b.get() & 0xff);
            long high = b.getLong();
            long low = b.getLong();
            long sequence = b.getLong();
            int keyLength = b.getShort() & 0xffff;
            if (keyLength < 1 || keyLength > MAX_KEY_BYTES) {
                throw new MalformedCommandException("key length " + keyLength + " outside 1–" + MAX_KEY_BYTES);
            }
            String key = utf8(b, keyLength, "key");
            int flags = b.get() & 0xff;
            if ((flags & ~(FLAG_EXPECTED | FLAG_VALUE | FLAG_GUARD)) != 0) {
                throw new MalformedCommandException("reserved flag bits set: 0b" + Integer.toBinaryString(flags));
            }
            Guard guard = null;
            if ((flags & FLAG_GUARD) != 0) {
                long epoch = b.getLong();
                int originLength = b.get() & 0xff;
                if (originLength > MAX_ORIGIN_BYTES) {
                    throw new MalformedCommandException("guard origin length " + originLength + " above " + MAX_ORIGIN_BYTES);
                }
                String origin = utf8(b, originLength, "guard origin");
                if (epoch < 0) {
                    throw new MalformedCommandException("guard epoch " + epoch + " is negative");
                }
                guard = new Guard(epoch, origin);
            }
            String expected = (flags & FLAG_EXPECTED) != 0 ? string(b, "expected") : null;
            String value = (flags & FLAG_VALUE) != 0 ? string(b, "value") : null;
            if (b.hasRemaining()) {
                throw new MalformedCommandException(b.remaining() + " trailing bytes after the command");
            }
            try {
                return new Command(type, high, low, sequence, key, expected, value, guard);
            } catch (IllegalArgumentException e) {
                throw new MalformedCommandException(e.getMessage());
            }
        } catch (BufferUnderflowException e) {
            throw new MalformedCommandException("command truncated at byte " + b.position() + " of " + in.remaining());
        }
    }

    private static String string(ByteBuffer b, String field) {
        int length = b.getInt();
        if (length < 0 || length > b.remaining()) {
            throw new MalformedCommandException(field + " length " + length + " exceeds the " + b.remaining() + " bytes left");
        }
        return utf8(b, length, field);
    }

    private static String utf8(ByteBuffer b, int length, String field) {
        if (length > b.remaining()) {
            throw new MalformedCommandException(field + " length " + length + " exceeds the " + b.remaining() + " bytes left");
        }
        ByteBuffer slice = b.slice();
        slice.limit(length);
        b.position(b.position() + length);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(slice).toString();
        } catch (CharacterCodingException e) {
            throw new MalformedCommandException(field + " is not valid UTF-8");
        }
    }

    /** A command that cannot be decoded; it changes no state. */
    static final class MalformedCommandException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        MalformedCommandException(String message) {
            super(message);
        }
    }
}
