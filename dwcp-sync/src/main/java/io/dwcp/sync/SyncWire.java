package io.dwcp.sync;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.sync.crdt.CanonicalReader;
import io.dwcp.sync.crdt.CanonicalWriter;
import io.dwcp.sync.crdt.Crdt;
import io.dwcp.sync.crdt.OrMap;
import io.dwcp.sync.crdt.TypeRegistry;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Encodes and decodes {@link SyncMessage}s. Every message is the payload of one transport transfer (kind METADATA).
 * Big-endian; varints are unsigned LEB128; strings are a varint length then UTF-8 (see docs/sync.md for the tables).
 *
 * <pre>
 *  0      2        3      4       5                13          21
 *  +------+--------+------+-------+----------------+-----------+--------------+------
 *  |magic |version | type | flags | correlation id | hlc       | sender (str) | body…
 *  | "DS" |   1    |  u8  |   0   |      i64       |   i64     |              |
 *  +------+--------+------+-------+----------------+-----------+--------------+------
 * </pre>
 *
 * Decoding checks every length against the bytes left before allocating; malformed input raises
 * {@code CORRUPT_FRAME}, a wrong magic, version, type or non-zero reserved flags {@code PROTOCOL_ERROR}.
 */
final class SyncWire {
    static final int MAGIC = 0x4453;
    static final int VERSION = 1;
    static final int MAGIC_OFFSET = 0;
    static final int VERSION_OFFSET = 2;
    static final int TYPE_OFFSET = 3;
    static final int FLAGS_OFFSET = 4;
    static final int CORRELATION_OFFSET = 5;
    static final int HLC_OFFSET = 13;
    static final int SENDER_OFFSET = 21;

    static final int TYPE_DELTA = 1;
    static final int TYPE_TREE_REQUEST = 2;
    static final int TYPE_TREE_RESPONSE = 3;
    static final int TYPE_LEAF_REQUEST = 4;
    static final int TYPE_LEAF_RESPONSE = 5;
    static final int TYPE_PULL_REQUEST = 6;
    static final int TYPE_PULL_RESPONSE = 7;
    static final int TYPE_PUSH_REQUEST = 8;
    static final int TYPE_PUSH_ACK = 9;
    static final int TYPE_ERROR = 10;

    private SyncWire() {
    }

    static byte[] encode(SyncMessage m) {
        CanonicalWriter w = new CanonicalWriter();
        w.u8(MAGIC >>> 8).u8(MAGIC & 0xFF).u8(VERSION).u8(typeOf(m)).u8(0);
        SyncMessage.Header h = m.header();
        w.i64(h.correlationId()).i64(h.hlc()).string(h.sender());
        if (m instanceof SyncMessage.Delta d) {
            w.i64(d.messageId()).u8(d.hops()).u8(d.wholeStates() ? 1 : 0).varint(d.path().size());
            d.path().forEach(w::string);
            writeEntries(w, d.entries());
        } else if (m instanceof SyncMessage.TreeRequest t) {
            w.u8(t.level()).varint(t.nodes().length);
            for (int n : t.nodes()) {
                w.varint(n);
            }
        } else if (m instanceof SyncMessage.TreeResponse t) {
            w.u8(t.level()).varint(t.children().length);
            for (long[] c : t.children()) {
                for (long x : c) {
                    w.i64(x);
                }
            }
        } else if (m instanceof SyncMessage.LeafRequest l) {
            w.varint(l.leaves().length);
            for (int n : l.leaves()) {
                w.varint(n);
            }
        } else if (m instanceof SyncMessage.LeafResponse l) {
            w.varint(l.leaves().size());
            for (Map<String, Long> leaf : l.leaves()) {
                w.varint(leaf.size());
                for (Map.Entry<String, Long> e : leaf.entrySet()) {
                    w.string(e.getKey()).i64(e.getValue());
                }
            }
        } else if (m instanceof SyncMessage.PullRequest p) {
            w.varint(p.keys().size());
            p.keys().forEach(w::string);
        } else if (m instanceof SyncMessage.PullResponse p) {
            writeEntries(w, p.entries());
        } else if (m instanceof SyncMessage.PushRequest p) {
            writeEntries(w, p.entries());
        } else if (m instanceof SyncMessage.PushAck a) {
            w.varint(a.merged());
        } else if (m instanceof SyncMessage.Error e) {
            w.varint(e.code()).string(e.message());
        }
        return w.toByteArray();
    }

    /** Bytes one entry adds to a message (for splitting batches at max-message). */
    static int entryBytes(String key, byte[] state) {
        return key.length() * 3 + state.length + 10;
    }

    private static void writeEntries(CanonicalWriter w, List<SyncMessage.KeyState> entries) {
        w.varint(entries.size());
        for (SyncMessage.KeyState e : entries) {
            w.string(e.key()).bytes(e.state().encode());
        }
    }

    private static int typeOf(SyncMessage m) {
        if (m instanceof SyncMessage.Delta) {
            return TYPE_DELTA;
        } else if (m instanceof SyncMessage.TreeRequest) {
            return TYPE_TREE_REQUEST;
        } else if (m instanceof SyncMessage.TreeResponse) {
            return TYPE_TREE_RESPONSE;
        } else if (m instanceof SyncMessage.LeafRequest) {
            return TYPE_LEAF_REQUEST;
        } else if (m instanceof SyncMessage.LeafResponse) {
            return TYPE_LEAF_RESPONSE;
        } else if (m instanceof SyncMessage.PullRequest) {
            return TYPE_PULL_REQUEST;
        } else if (m instanceof SyncMessage.PullResponse) {
            return TYPE_PULL_RESPONSE;
        } else if (m instanceof SyncMessage.PushRequest) {
            return TYPE_PUSH_REQUEST;
        } else if (m instanceof SyncMessage.PushAck) {
            return TYPE_PUSH_ACK;
        }
        return TYPE_ERROR;
    }

    /**
     * Decodes one message.
     *
     * @throws DwcpException {@code CORRUPT_FRAME} (malformed), {@code PROTOCOL_ERROR} (magic, version, type, flags,
     *     unknown CRDT tag)
     */
    static SyncMessage decode(byte[] bytes, TypeRegistry registry) {
        CanonicalReader r = new CanonicalReader(bytes);
        int magic = (r.u8() << 8) | r.u8();
        if (magic != MAGIC) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, String.format("not a sync message: magic 0x%04x", magic));
        }
        int version = r.u8();
        if (version != VERSION) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "unsupported sync wire version " + version + " (this build speaks " + VERSION + ")");
        }
        int type = r.u8();
        int flags = r.u8();
        if (flags != 0) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "reserved flags set: " + Integer.toBinaryString(flags));
        }
        SyncMessage.Header h = new SyncMessage.Header(r.i64(), r.i64(), r.string());
        SyncMessage m = switch (type) {
            case TYPE_DELTA -> {
                long id = r.i64();
                int hops = r.u8();
                boolean whole = r.bool();
                int n = r.count(1);
                List<String> path = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    path.add(r.string());
                }
                yield new SyncMessage.Delta(h, id, hops, whole, path, readEntries(r, registry));
            }
            case TYPE_TREE_REQUEST -> {
                int level = level(r, MerkleIndex.DEPTH - 1);
                yield new SyncMessage.TreeRequest(h, level, indices(r, MerkleIndex.nodesAt(level)));
            }
            case TYPE_TREE_RESPONSE -> {
                int level = level(r, MerkleIndex.DEPTH - 1);
                int n = r.count(8 * MerkleIndex.FANOUT);
                long[][] c = new long[n][MerkleIndex.FANOUT];
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < MerkleIndex.FANOUT; j++) {
                        c[i][j] = r.i64();
                    }
                }
                yield new SyncMessage.TreeResponse(h, level, c);
            }
            case TYPE_LEAF_REQUEST -> new SyncMessage.LeafRequest(h, indices(r, MerkleIndex.LEAVES));
            case TYPE_LEAF_RESPONSE -> {
                int n = r.count(1);
                List<Map<String, Long>> leaves = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    int k = r.count(9);
                    Map<String, Long> leaf = new TreeMap<>();
                    for (int j = 0; j < k; j++) {
                        leaf.put(r.string(), r.i64());
                    }
                    leaves.add(leaf);
                }
                yield new SyncMessage.LeafResponse(h, leaves);
            }
            case TYPE_PULL_REQUEST -> {
                int n = r.count(1);
                List<String> keys = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    keys.add(r.string());
                }
                yield new SyncMessage.PullRequest(h, keys);
            }
            case TYPE_PULL_RESPONSE -> new SyncMessage.PullResponse(h, readEntries(r, registry));
            case TYPE_PUSH_REQUEST -> new SyncMessage.PushRequest(h, readEntries(r, registry));
            case TYPE_PUSH_ACK -> new SyncMessage.PushAck(h, (int) Math.min(Integer.MAX_VALUE, r.varint()));
            case TYPE_ERROR -> new SyncMessage.Error(h, (int) Math.min(Integer.MAX_VALUE, r.varint()), r.string());
            default -> throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "unknown sync message type " + type);
        };
        r.end();
        return m;
    }

    /** Whether {@code bytes} start with this build's magic, version and zero flags (used to classify a refusal). */
    static boolean headerValid(byte[] bytes) {
        return bytes.length > FLAGS_OFFSET && ((bytes[MAGIC_OFFSET] & 0xFF) << 8 | (bytes[MAGIC_OFFSET + 1] & 0xFF)) == MAGIC
                && bytes[VERSION_OFFSET] == VERSION && bytes[FLAGS_OFFSET] == 0;
    }

    private static int level(CanonicalReader r, int max) {
        int level = r.u8();
        if (level > max) {
            throw r.corrupt("tree level " + level + " above " + max);
        }
        return level;
    }

    private static int[] indices(CanonicalReader r, int bound) {
        int n = r.count(1);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            long v = r.varint();
            if (v >= bound) {
                throw r.corrupt("index " + v + " outside 0.." + (bound - 1));
            }
            out[i] = (int) v;
        }
        return out;
    }

    /** Decodes an <i>entries</i> list (also the format of the store snapshot and of journal records). */
    static List<SyncMessage.KeyState> readEntries(CanonicalReader r, TypeRegistry registry) {
        int n = r.count(3);
        List<SyncMessage.KeyState> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String key = r.string();
            Crdt<?> c = registry.decode(r.bytes());
            if (!(c instanceof OrMap m)) {
                throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "entry of key '" + key + "' is a " + c.type() + ", expected an OR_MAP entry");
            }
            if (!m.keys().isEmpty() && !m.keys().equals(java.util.Set.of(key)) || m.valueKeys().stream().anyMatch(k -> !k.equals(key))) {
                throw new DwcpException(ErrorCode.CORRUPT_FRAME, "entry of key '" + key + "' holds other keys");
            }
            out.add(new SyncMessage.KeyState(key, m));
        }
        return out;
    }

}
