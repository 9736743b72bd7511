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
 *  28+K   1    flags        bit 0 expected present, bit 1 value present, other bits reserved (zero)
 *  ...    4+E  expected     i32 length + UTF-8, when flagged
 *  ...    4+V  value        i32 length + UTF-8, when flagged
 * </pre>
 *
 * A READ has neither expected nor value, a WRITE a value only, a CAS a value and optionally an expected value (absent
 * expected: "the key is absent"). Anything else, trailing bytes included, is malformed.
 *
 * @param type the operation
 * @param clientHigh client id, high half
 * @param clientLow client id, low half
 * @param sequence per-client sequence, 0 when not de-duplicated
 * @param key the register
 * @param expected CAS only: the value expected, {@code null} for "absent"
 * @param value WRITE and CAS: the new value; {@code null} for READ
 */
record Command(Type type, long clientHigh, long clientLow, long sequence, String key, String expected, String value) {
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

    /** The three operations of the register. */
    enum Type {
        READ(1), WRITE(2), CAS(3);

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
            throw new MalformedCommandException("unknown command type " + code + " (expected 1 READ, 2 WRITE or 3 CAS)");
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
            default -> throw new AssertionError(type);
        }
    }

    /** Encodes into a new array (commands are small and outlive the call: they go into the log). */
    byte[] encode() {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        byte[] e = expected == null ? null : expected.getBytes(StandardCharsets.UTF_8);
        byte[] v = value == null ? null : value.getBytes(StandardCharsets.UTF_8);
        long size = (long) KEY_OFFSET + k.length + 1 + (e == null ? 0 : 4L + e.length) + (v == null ? 0 : 4L + v.length);
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("command of " + size + " bytes cannot be encoded");
        }
        ByteBuffer b = ByteBuffer.allocate((int) size);
        b.put((byte) CURRENT_VERSION).put((byte) type.code).putLong(clientHigh).putLong(clientLow).putLong(sequence)
                .putShort((short) k.length).put(k)
                .put((byte) ((e != null ? FLAG_EXPECTED : 0) | (v != null ? FLAG_VALUE : 0)));
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
            if ((flags & ~(FLAG_EXPECTED | FLAG_VALUE)) != 0) {
                throw new MalformedCommandException("reserved flag bits set: 0b" + Integer.toBinaryString(flags));
            }
            String expected = (flags & FLAG_EXPECTED) != 0 ? string(b, "expected") : null;
            String value = (flags & FLAG_VALUE) != 0 ? string(b, "value") : null;
            if (b.hasRemaining()) {
                throw new MalformedCommandException(b.remaining() + " trailing bytes after the command");
            }
            try {
                return new Command(type, high, low, sequence, key, expected, value);
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
