package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.BaselineRef;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Byte layouts of the migration protocol that runs on top of transport transfers; documented in
 * {@code docs/migration-wire-format.md}. Big-endian.
 *
 * <pre>
 * round transfer (kind MEMORY): RoundHeader, then { u32 frameLength, frame bytes }*, then u32 0 (end marker)
 * RoundHeader:  magic "DWMR" | u8 version | u8 flags | u16 reserved(0) | u32 round | u32 pageSize
 *               | u32 regionCount | { u16 nameLength | name UTF-8 | u64 sizeBytes } * regionCount
 * control transfer (kind METADATA): magic "DWMC" | u8 version | u8 type | u16 reserved(0) | u64 requestId
 *               | u8 present | u64 baselineId | u64 baselineVersion | u64 baselineDigest   (41 bytes)
 * </pre>
 */
final class MigrationWire {
    static final int ROUND_MAGIC = 0x44574D52; // "DWMR"
    static final int CONTROL_MAGIC = 0x44574D43; // "DWMC"
    /** Version 2 added the round header's KEYFRAME flag. */
    static final int VERSION = 2;
    /** Round header flag: the round is a keyframe (the receiver may decode it into a staging replica). */
    static final int FLAG_KEYFRAME = 1;
    /** Round header flag: the round is replica-seeded (its frames are {@link SeedWire}'s, not the codec's). */
    static final int FLAG_SEEDED = 2;
    static final int TYPE_BASELINE_QUERY = 1;
    static final int TYPE_BASELINE_STATE = 2;
    static final int CONTROL_LENGTH = 41;
    static final int ROUND_FIXED_LENGTH = 20;
    static final int MAX_REGIONS = 4096;
    static final int MAX_NAME_BYTES = 255;
    /** Largest codec frame the receiver accepts between length prefixes (HDE's max-decoded-frame is 64 MiB). */
    static final int MAX_FRAME_BYTES = 256 << 20;

    private MigrationWire() {
    }

    static ByteBuffer roundHeader(int round, int pageSize, List<ReplicaFactory.RegionLayout> regions, boolean keyframe) {
        return roundHeader(round, pageSize, regions, keyframe ? FLAG_KEYFRAME : 0);
    }

    static ByteBuffer roundHeader(int round, int pageSize, List<ReplicaFactory.RegionLayout> regions, int flags) {
        int len = ROUND_FIXED_LENGTH;
        List<byte[]> names = new ArrayList<>();
        for (ReplicaFactory.RegionLayout r : regions) {
            byte[] n = r.name().getBytes(StandardCharsets.UTF_8);
            if (n.length > MAX_NAME_BYTES) {
                throw new IllegalArgumentException("region name longer than " + MAX_NAME_BYTES + " bytes: " + r.name());
            }
            names.add(n);
            len += 2 + n.length + 8;
        }
        ByteBuffer b = ByteBuffer.allocate(len);
        b.putInt(ROUND_MAGIC).put((byte) VERSION).put((byte) flags).putShort((short) 0)
                .putInt(round).putInt(pageSize).putInt(regions.size());
        for (int i = 0; i < regions.size(); i++) {
            b.putShort((short) names.get(i).length).put(names.get(i)).putLong(regions.get(i).sizeBytes());
        }
        return b.flip();
    }

    /** A parsed round header. */
    record RoundHeader(int round, int pageSize, List<ReplicaFactory.RegionLayout> regions, boolean keyframe, boolean seeded) {
        RoundHeader(int round, int pageSize, List<ReplicaFactory.RegionLayout> regions, boolean keyframe) {
            this(round, pageSize, regions, keyframe, false);
        }
    }

    /**
     * Parses a round header from the start of {@code b} if it is complete; returns null (position unchanged) when more
     * bytes are needed.
     *
     * @throws DwcpException {@code PROTOCOL_ERROR} / {@code LIMIT_EXCEEDED} for a malformed header
     */
    static RoundHeader parseRoundHeader(ByteBuffer b) {
        int start = b.position();
        if (b.remaining() < ROUND_FIXED_LENGTH) {
            return null;
        }
        int magic = b.getInt();
        int version = b.get() & 0xff;
        int flags = b.get() & 0xff;
        int reserved = b.getShort();
        if (magic != ROUND_MAGIC) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "round transfer does not start with DWMR magic: 0x" + Integer.toHexString(magic));
        }
        if (version != VERSION) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "unsupported migration wire version " + version + " (this end speaks " + VERSION + ")");
        }
        if ((flags & ~(FLAG_KEYFRAME | FLAG_SEEDED)) != 0 || flags == (FLAG_KEYFRAME | FLAG_SEEDED) || reserved != 0) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "reserved bits set in round header");
        }
        int round = b.getInt();
        int pageSize = b.getInt();
        int count = b.getInt();
        if (round < 0 || pageSize < 512 || pageSize > (2 << 20) || Integer.bitCount(pageSize) != 1) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "bad round header: round " + round + ", page size " + pageSize);
        }
        if (count < 0 || count > MAX_REGIONS) {
            throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, "round header announces " + count + " regions (at most " + MAX_REGIONS + ")");
        }
        List<ReplicaFactory.RegionLayout> regions = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            if (b.remaining() < 2) {
                b.position(start);
                return null;
            }
            int nameLen = b.getShort() & 0xffff;
            if (nameLen > MAX_NAME_BYTES) {
                throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, "region name of " + nameLen + " bytes (at most " + MAX_NAME_BYTES + ")");
            }
            if (b.remaining() < nameLen + 8) {
                b.position(start);
                return null;
            }
            byte[] name = new byte[nameLen];
            b.get(name);
            long size = b.getLong();
            if (size < 0) {
                throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "negative region size " + size);
            }
            regions.add(new ReplicaFactory.RegionLayout(regionName(name), size));
        }
        return new RoundHeader(round, pageSize, regions, (flags & FLAG_KEYFRAME) != 0, (flags & FLAG_SEEDED) != 0);
    }

    /** Decodes a region name strictly: malformed UTF-8 would otherwise become U+FFFD, a different (and longer) name. */
    private static String regionName(byte[] name) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(name)).toString();
        } catch (CharacterCodingException e) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "region name of " + name.length + " bytes is not valid UTF-8");
        }
    }

    static ByteBuffer control(int type, long requestId, BaselineRef ref) {
        ByteBuffer b = ByteBuffer.allocate(CONTROL_LENGTH);
        b.putInt(CONTROL_MAGIC).put((byte) VERSION).put((byte) type).putShort((short) 0).putLong(requestId)
                .put((byte) (ref == null ? 0 : 1))
                .putLong(ref == null ? 0 : ref.id()).putLong(ref == null ? 0 : ref.version()).putLong(ref == null ? 0 : ref.digest());
        return b.flip();
    }

    /** A parsed control message. */
    record Control(int type, long requestId, boolean present, long id, long version, long digest) {
        BaselineRef baseline(String key) {
            return present ? new BaselineRef(key, id, version, digest) : null;
        }
    }

    static Control parseControl(ByteBuffer b) {
        if (b.remaining() != CONTROL_LENGTH) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "control message of " + b.remaining() + " bytes, expected " + CONTROL_LENGTH);
        }
        int magic = b.getInt();
        int version = b.get() & 0xff;
        int type = b.get() & 0xff;
        int reserved = b.getShort();
        if (magic != CONTROL_MAGIC || version != VERSION || reserved != 0
                || (type != TYPE_BASELINE_QUERY && type != TYPE_BASELINE_STATE)) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "malformed migration control message (magic 0x"
                    + Integer.toHexString(magic) + ", version " + version + ", type " + type + ")");
        }
        long requestId = b.getLong();
        int present = b.get() & 0xff;
        if (present > 1) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "bad presence byte " + present);
        }
        return new Control(type, requestId, present == 1, b.getLong(), b.getLong(), b.getLong());
    }
}
