package io.dwcp.compression;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.BaselineRef;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;

/**
 * A round's identity as its BEGIN frame states it, and the decoder's checks of the frames' fields against it: the BEGIN
 * frame against the replica's shape and the limits ({@link #begin}), every later frame's round id, flags and baseline
 * triple ({@link #checkSameRound}), a BATCH frame's header ({@link #checkBatch}), the END frame's counts
 * ({@link #checkEnd}) and a delta's produced version against its baseline's ({@link #checkDeltaChain}). These run
 * before anything is allocated for the frame. (Length, magic, version, CRC and sequence are checked before, by
 * {@link Wire#check} and {@link HdeDecoder}.)
 *
 * <p>Made by {@link HdeDecoder} on the thread that feeds it, when the BEGIN frame arrives, and dropped with the
 * decoder; immutable, so it needs no lock. What arrived so far (pages, slots, bytes) is the decoder's and is passed in.
 * The decoder's state machine, scratch and batch jobs stay in {@link HdeDecoder}.
 */
final class RoundHeader {
    /** The state key the round is for (the replica's). */
    final String key;
    final long roundId;
    final int flags;
    final boolean keyframe;
    final long againstId;
    final long againstVersion;
    final long againstDigest;
    final long producedId;
    final long producedVersion;

    private RoundHeader(String key, ByteBuffer f) {
        this.key = key;
        roundId = f.getLong(Wire.ROUND_ID_OFFSET);
        flags = f.getShort(Wire.FLAGS_OFFSET) & 0xFFFF;
        keyframe = (flags & Wire.FLAG_KEYFRAME) != 0;
        againstId = f.getLong(Wire.BASELINE_ID_OFFSET);
        againstVersion = f.getLong(Wire.BASELINE_VERSION_OFFSET);
        againstDigest = f.getLong(Wire.BASELINE_DIGEST_OFFSET);
        producedId = f.getLong(Wire.BEGIN_PRODUCED_ID_OFFSET);
        producedVersion = f.getLong(Wire.BEGIN_PRODUCED_VERSION_OFFSET);
    }

    /**
     * Checks the BEGIN frame {@code f} (already checked by {@link Wire#check}) against the replica of
     * {@code replicaKey} with {@code layout}, and returns the round it opens.
     *
     * @throws DwcpException {@code CORRUPT_FRAME} when the frame or its shape is wrong, {@code DICTIONARY_MISSING}
     *     for a dictionary, {@code LIMIT_EXCEEDED} for a state too large
     */
    static RoundHeader begin(ByteBuffer f, String replicaKey, Layout layout) {
        int length = f.remaining();
        if (length < Wire.BEGIN_KEY_OFFSET + Wire.CRC_LENGTH) {
            throw Wire.corrupt("BEGIN frame of " + length + " bytes is too short");
        }
        int keyLength = f.getShort(Wire.BEGIN_KEY_LENGTH_OFFSET) & 0xFFFF;
        int regions = f.getInt(Wire.BEGIN_REGION_COUNT_OFFSET);
        if (keyLength > Wire.MAX_KEY_BYTES || regions < 0 || regions > Wire.MAX_REGIONS
                || (long) Wire.BEGIN_KEY_OFFSET + keyLength + 8L * regions + Wire.CRC_LENGTH != length) {
            throw Wire.corrupt("BEGIN frame of " + length + " bytes does not hold a " + keyLength + "-byte key and "
                    + regions + " regions");
        }
        String key;
        try {
            key = StandardCharsets.UTF_8.newDecoder().decode(f.slice(Wire.BEGIN_KEY_OFFSET, keyLength)).toString();
        } catch (CharacterCodingException e) {
            throw new DwcpException(ErrorCode.CORRUPT_FRAME, "BEGIN key is not UTF-8", e);
        }
        if (!key.equals(replicaKey)) {
            throw Wire.corrupt("round is for key '" + key + "', this decoder's replica is '" + replicaKey + "'");
        }
        int ps = f.getInt(Wire.BEGIN_PAGE_SIZE_OFFSET);
        if (ps != layout.pageSizeBytes) {
            throw Wire.corrupt("round has " + ps + "-byte pages, replica " + layout.pageSizeBytes);
        }
        if (regions != layout.regionCount()) {
            throw Wire.corrupt("round has " + regions + " regions, replica " + layout.regionCount());
        }
        int p = Wire.BEGIN_KEY_OFFSET + keyLength;
        for (int r = 0; r < regions; r++, p += 8) {
            if (f.getLong(p) != layout.regionBytes[r]) {
                throw Wire.corrupt("region " + r + " is " + f.getLong(p) + " bytes in the round, "
                        + layout.regionBytes[r] + " in the replica");
            }
        }
        if (f.getLong(Wire.BEGIN_TOTAL_BYTES_OFFSET) != layout.totalBytes) {
            throw Wire.corrupt("total size " + f.getLong(Wire.BEGIN_TOTAL_BYTES_OFFSET) + " differs from the replica's "
                    + layout.totalBytes);
        }
        int dictionary = f.getInt(Wire.BEGIN_DICTIONARY_ID_OFFSET);
        if (dictionary != 0) {
            throw new DwcpException(ErrorCode.DICTIONARY_MISSING, "round uses dictionary 0x" + Integer.toHexString(dictionary)
                    + ", this decoder has none");
        }
        if (layout.totalPages() > Integer.MAX_VALUE - 8) {
            throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, "state of " + layout.totalPages() + " pages is too large");
        }
        RoundHeader h = new RoundHeader(key, f);
        if (h.keyframe && (h.againstId != 0 || h.againstVersion != 0 || h.againstDigest != 0 || h.producedVersion != 0)) {
            throw Wire.corrupt("keyframe names a baseline or a non-zero version");
        }
        return h;
    }

    /** Checks that frame {@code f} (after BEGIN) repeats this round's id, flags and baseline triple. */
    void checkSameRound(ByteBuffer f) {
        if (f.getLong(Wire.ROUND_ID_OFFSET) != roundId || (f.getShort(Wire.FLAGS_OFFSET) & 0xFFFF) != flags
                || f.getLong(Wire.BASELINE_ID_OFFSET) != againstId || f.getLong(Wire.BASELINE_VERSION_OFFSET) != againstVersion
                || f.getLong(Wire.BASELINE_DIGEST_OFFSET) != againstDigest) {
            throw Wire.corrupt("frame belongs to another round: " + Wire.describe(f, 0));
        }
    }

    /** The baseline a delta is against. */
    BaselineRef against() {
        return new BaselineRef(key, againstId, againstVersion, againstDigest);
    }

    /** Checks that a delta produces the next version of its baseline's chain. */
    void checkDeltaChain() {
        if (producedId != againstId || producedVersion != againstVersion + 1) {
            throw Wire.corrupt("delta produces " + Long.toHexString(producedId) + " v" + producedVersion
                    + ", expected v" + (againstVersion + 1) + " of the same chain");
        }
    }

    /**
     * Checks a BATCH frame's header fields, as read from {@code f}, before anything is allocated for it: they must follow
     * page {@code nextPage} of a {@code totalPages}-page state and decode to at most {@code rawLimit} bytes.
     *
     * @throws DwcpException {@code CORRUPT_FRAME} for fields that do not fit, {@code LIMIT_EXCEEDED} above the limit
     */
    void checkBatch(ByteBuffer f, long firstPage, long pageCount, long firstSlot, int codecId, int rawLength,
                    int controlLength, int payloadLength, long nextPage, long totalPages, int rawLimit) {
        if (f.getInt(Wire.BATCH_RESERVED_OFFSET) != 0 || f.getShort(Wire.BATCH_RESERVED2_OFFSET) != 0) {
            throw Wire.corrupt("reserved BATCH fields are not zero");
        }
        if (firstPage < nextPage || pageCount == 0 || firstPage > totalPages - pageCount
                || (keyframe && firstPage != nextPage)) {
            throw Wire.corrupt("batch pages [" + firstPage + ", +" + pageCount + ") do not follow page " + nextPage
                    + " inside a " + totalPages + "-page state");
        }
        if (firstSlot < 0 || firstSlot > firstPage) {
            throw Wire.corrupt("batch starts at slot " + firstSlot + " before page " + firstPage);
        }
        if (rawLength < 0 || rawLength > rawLimit) {
            throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, "batch decodes to " + Integer.toUnsignedString(rawLength)
                    + " bytes, above max-decoded-frame = " + rawLimit);
        }
        if (controlLength < 0 || controlLength > rawLength) {
            throw Wire.corrupt("control stream of " + controlLength + " bytes in a " + rawLength + "-byte batch");
        }
        if (codecId == Wire.CODEC_STORED) {
            if (payloadLength != rawLength) {
                throw Wire.corrupt("stored batch carries " + payloadLength + " bytes, header says " + rawLength);
            }
        } else if (codecId != Wire.CODEC_ZSTD) {
            throw Wire.corrupt("unknown batch codec " + codecId);
        }
    }

    /**
     * Checks the END frame {@code f} against what arrived: {@code batchesArrived} batches of {@code slotsArrived} sent
     * pages in {@code encodedBytesArrived} frame bytes, up to page {@code nextPage} of {@code totalPages}.
     */
    void checkEnd(ByteBuffer f, int batchesArrived, long slotsArrived, long encodedBytesArrived, long nextPage,
                  long totalPages) {
        int batches = f.getInt(Wire.END_BATCH_COUNT_OFFSET);
        if (batches != batchesArrived || f.getInt(Wire.END_RESERVED_OFFSET) != 0) {
            throw Wire.corrupt("END counts " + Integer.toUnsignedString(batches) + " batches, " + batchesArrived
                    + " arrived");
        }
        if (f.getLong(Wire.END_SLOT_COUNT_OFFSET) != slotsArrived) {
            throw Wire.corrupt("END counts " + f.getLong(Wire.END_SLOT_COUNT_OFFSET) + " pages sent, " + slotsArrived
                    + " arrived");
        }
        if (f.getLong(Wire.END_ENCODED_BYTES_OFFSET) != encodedBytesArrived) {
            throw Wire.corrupt("END counts " + f.getLong(Wire.END_ENCODED_BYTES_OFFSET) + " frame bytes, "
                    + encodedBytesArrived + " arrived");
        }
        if (keyframe && nextPage != totalPages) {
            throw Wire.corrupt("keyframe ends at page " + nextPage + " of " + totalPages);
        }
    }
}
