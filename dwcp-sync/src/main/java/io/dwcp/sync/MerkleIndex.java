package io.dwcp.sync;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLongArray;

/*
 * Maintainer notes. A hash tree over key ranges for anti-entropy, in the spirit of Cassandra's Merkle repair.
 * Keys are placed by the top 16 bits of a hash of the key into 65,536 leaves; the tree above them has fan-out 16
 * (levels 0 = root, 1 = 16 nodes, 2 = 256, 3 = 4,096, 4 = the leaves). A key's digest is 64 bits of SHA-256 over
 * (key, canonical encoding of its state); a node's hash is the XOR of the digests under it, so a leaf is updated in
 * O(1) when one key changes (xor out the old digest, xor in the new) and an inner node is recomputed on demand from
 * its leaf range. XOR of 64-bit cryptographic digests collides only with probability ~2^-64 per comparison.
 *
 * Thread-safety: the leaf array is atomic; per-leaf key maps are concurrent. The store calls update() inside its
 * per-key atomic section, so a key's entry and its digest change together as seen by that key's writers; readers of
 * other keys may see a tree between two keys' updates, which anti-entropy tolerates (it repeats).
 */

/** The range hash tree over the store's keys. Thread-safe. */
final class MerkleIndex {
    static final int FANOUT = 16;
    static final int DEPTH = 4;
    static final int LEAVES = 1 << 16;

    private final AtomicLongArray leaves = new AtomicLongArray(LEAVES);
    @SuppressWarnings("unchecked")
    private final ConcurrentSkipListMap<String, Long>[] leafKeys = new ConcurrentSkipListMap[LEAVES];

    /** The leaf of a key. */
    static int leafOf(String key) {
        byte[] h = sha256(key.getBytes(StandardCharsets.UTF_8), null);
        return ((h[0] & 0xFF) << 8) | (h[1] & 0xFF);
    }

    /** 64 bits of SHA-256 over (key, state encoding). */
    static long digest(String key, byte[] state) {
        byte[] h = sha256(key.getBytes(StandardCharsets.UTF_8), state);
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (h[i] & 0xFF);
        }
        return v;
    }

    private static byte[] sha256(byte[] a, byte[] b) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(intBytes(a.length));
            md.update(a);
            if (b != null) {
                md.update(b);
            }
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }

    private static byte[] intBytes(int v) {
        return new byte[]{(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    /** Records that {@code key}'s digest changed from {@code oldDigest} (0 when new) to {@code newDigest}. */
    void update(String key, long oldDigest, long newDigest) {
        int leaf = leafOf(key);
        long x = oldDigest ^ newDigest;
        leaves.getAndUpdate(leaf, v -> v ^ x);
        ConcurrentSkipListMap<String, Long> m = leafKeys(leaf);
        m.put(key, newDigest);
    }

    private ConcurrentSkipListMap<String, Long> leafKeys(int leaf) {
        ConcurrentSkipListMap<String, Long> m = leafKeys[leaf];
        if (m == null) {
            synchronized (leafKeys) {
                m = leafKeys[leaf];
                if (m == null) {
                    m = new ConcurrentSkipListMap<>();
                    leafKeys[leaf] = m;
                }
            }
        }
        return m;
    }

    /** Nodes at {@code level} (16^level). */
    static int nodesAt(int level) {
        return 1 << (4 * level);
    }

    /** The hash of node {@code index} at {@code level} (0..DEPTH). */
    long hash(int level, int index) {
        if (level < 0 || level > DEPTH || index < 0 || index >= nodesAt(level)) {
            throw new IllegalArgumentException("no node " + index + " at level " + level);
        }
        int span = LEAVES / nodesAt(level);
        long x = 0;
        for (int i = index * span, end = i + span; i < end; i++) {
            x ^= leaves.get(i);
        }
        return x;
    }

    /** The 16 child hashes of node {@code index} at {@code level} (0..DEPTH-1). */
    long[] children(int level, int index) {
        long[] out = new long[FANOUT];
        for (int c = 0; c < FANOUT; c++) {
            out[c] = hash(level + 1, index * FANOUT + c);
        }
        return out;
    }

    /** The keys and digests in one leaf, sorted by key (a snapshot). */
    NavigableMap<String, Long> leaf(int leaf) {
        ConcurrentSkipListMap<String, Long> m = leafKeys[leaf];
        return m == null ? new java.util.TreeMap<>() : new java.util.TreeMap<>(m);
    }

    /** The digest of one key, 0 when absent. */
    long digestOf(String key) {
        ConcurrentSkipListMap<String, Long> m = leafKeys[leafOf(key)];
        Long d = m == null ? null : m.get(key);
        return d == null ? 0 : d;
    }

    /** XOR of every key digest (the root hash). */
    long root() {
        return hash(0, 0);
    }
}
