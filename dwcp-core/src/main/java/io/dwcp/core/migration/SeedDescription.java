package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.LongBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.TimeUnit;

/**
 * The cached description of a seed file (a replica or an image): its page and chunk hashes ({@link SeedHashes}) in a
 * sidecar file next to the replicas, valid only for the exact version of the file it was computed from. The sidecar
 * records that file's size, modification time and identity (file key and path); a sidecar whose record does not match
 * the file any more is stale and is recomputed. {@link FileReplicas} also deletes a replica's sidecar before any round
 * writes the replica. The hashes are read from the sidecar when asked for; only the chunk hashes of a sidecar being
 * written are held in memory (16 bytes per 64 pages).
 *
 * <pre>
 * sidecar: magic "DWSD" | u8 version(1) | u8 0 | u16 0 | u32 pageSize | u32 chunkPages | u64 stateBytes
 *          | u64 fileSize | u64 fileModifiedNanos | u64 fileIdentity | 16 B seedVersion      (64 bytes)
 *          | chunkCount x 16 B chunk hash | pageCount x 16 B page hash
 * </pre>
 */
final class SeedDescription {
    static final int MAGIC = 0x44575344; // "DWSD"
    static final int VERSION = 1;
    static final int HEADER_BYTES = 64;

    final Path sidecar;
    final int pageSize;
    final long stateBytes;
    final long pages;
    final long chunks;
    /** First 16 bytes of the described state's digest. */
    final byte[] version;
    /** The version of the described file the description is valid for. */
    final Stamp stamp;

    private SeedDescription(Path sidecar, int pageSize, long stateBytes, byte[] version, Stamp stamp) {
        this.sidecar = sidecar;
        this.stamp = stamp;
        this.pageSize = pageSize;
        this.stateBytes = stateBytes;
        this.pages = SeedHashes.pages(stateBytes, pageSize);
        this.chunks = SeedHashes.chunks(pages);
        this.version = version;
    }

    /** What identifies one version of a described file. */
    record Stamp(long size, long modifiedNanos, long identity) {
        static Stamp of(Path file) throws IOException {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            MessageDigest md = SeedHashes.sha256();
            md.update(String.valueOf(a.fileKey()).getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
            md.update(file.toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8));
            long identity = ByteBuffer.wrap(md.digest()).getLong();
            return new Stamp(a.size(), a.lastModifiedTime().to(TimeUnit.NANOSECONDS), identity);
        }
    }

    /**
     * Loads the sidecar of {@code described} if it exists and describes that file as it is now with {@code pageSize}.
     *
     * @return the description, or null when there is none or it is stale or unreadable
     */
    static SeedDescription load(Path sidecar, Path described, int pageSize) throws IOException {
        return load(sidecar, described, pageSize, -1);
    }

    /**
     * As {@link #load(Path, Path, int)}, for a description of {@code stateBytes} bytes of the file (cut or extended
     * with zeros; -1: the file's size).
     */
    static SeedDescription load(Path sidecar, Path described, int pageSize, long wantedBytes) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES);
        try (FileChannel ch = FileChannel.open(sidecar, StandardOpenOption.READ)) {
            readFully(ch, h, 0);
            h.flip();
            if (h.getInt() != MAGIC || (h.get() & 0xff) != VERSION || h.get() != 0 || h.getShort() != 0) {
                return null;
            }
            int ps = h.getInt();
            int cp = h.getInt();
            long stateBytes = h.getLong();
            Stamp recorded = new Stamp(h.getLong(), h.getLong(), h.getLong());
            byte[] version = new byte[SeedHashes.HASH_BYTES];
            h.get(version);
            if (ps != pageSize || cp != SeedHashes.CHUNK_PAGES || !recorded.equals(Stamp.of(described))
                    || stateBytes != (wantedBytes < 0 ? recorded.size() : wantedBytes)) {
                return null;
            }
            SeedDescription d = new SeedDescription(sidecar, ps, stateBytes, version, recorded);
            if (ch.size() != HEADER_BYTES + (d.chunks + d.pages) * SeedHashes.HASH_BYTES) {
                return null;
            }
            return d;
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /**
     * Computes the description of {@code described} (reading it once) into {@code sidecar} (through a staging file
     * beside it, renamed when complete).
     */
    static SeedDescription compute(Path described, Path sidecar, int pageSize) throws IOException {
        return compute(described, sidecar, pageSize, new AtomicBoolean());
    }

    /** As {@link #compute(Path, Path, int)}; {@code stop} stops it with {@code CANCELLED}, nothing installed. */
    static SeedDescription compute(Path described, Path sidecar, int pageSize, AtomicBoolean stop) throws IOException {
        return compute(described, sidecar, pageSize, -1, stop);
    }

    /**
     * As {@link #compute(Path, Path, int, AtomicBoolean)}, describing {@code stateBytes} bytes of the file (cut or
     * extended with zeros; -1: the file's size).
     */
    static SeedDescription compute(Path described, Path sidecar, int pageSize, long stateBytes, AtomicBoolean stop)
            throws IOException {
        Stamp before = Stamp.of(described);
        long bytes = stateBytes < 0 ? before.size() : stateBytes;
        Writer w = new Writer(sidecar, pageSize, bytes);
        try {
            w.addHashes(FilePageHashes.hash(described, bytes, pageSize, stop));
            if (!Stamp.of(described).equals(before)) {
                throw new DwcpException(ErrorCode.STALE, described + " changed while its description was computed");
            }
            return w.install(before);
        } finally {
            w.discard();
        }
    }

    /** Reads the chunk hashes {@code [from, from + count)} into {@code dst}. */
    void chunkHashes(long from, int count, ByteBuffer dst) throws IOException {
        try (FileChannel ch = FileChannel.open(sidecar, StandardOpenOption.READ)) {
            ByteBuffer part = dst.slice();
            part.limit(count * SeedHashes.HASH_BYTES);
            readFully(ch, part, HEADER_BYTES + from * SeedHashes.HASH_BYTES);
            dst.position(dst.position() + part.limit());
        }
    }

    /**
     * {@return every page hash of the description, (hi, lo) per page} Checks that the sidecar still describes the
     * version it did when loaded (nothing else is checked: the caller decides whether the hashes may stand for the
     * file's pages).
     */
    long[] allPageHashes() throws IOException {
        long[] out = new long[(int) (2 * pages)];
        try (FileChannel ch = FileChannel.open(sidecar, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(HEADER_BYTES);
            readFully(ch, head, 0);
            Stamp recorded = new Stamp(head.getLong(24), head.getLong(32), head.getLong(40));
            if (!recorded.equals(stamp) || ch.size() != HEADER_BYTES + (chunks + pages) * SeedHashes.HASH_BYTES) {
                throw new DwcpException(ErrorCode.STALE, sidecar + " was replaced since it was loaded");
            }
            ByteBuffer b = ByteBuffer.allocateDirect(256 << 10);
            long position = HEADER_BYTES + chunks * SeedHashes.HASH_BYTES;
            int at = 0;
            while (at < out.length) {
                b.clear().limit((int) Math.min(b.capacity(), 8L * (out.length - at)));
                readFully(ch, b, position);
                position += b.limit();
                b.flip();
                // In bulk: a million pages' hashes element by element cost 0.1 s before the JIT compiled the loop.
                int n = b.remaining() / Long.BYTES;
                b.asLongBuffer().get(out, at, n);
                at += n;
            }
        }
        return out;
    }

    /** Reads the page hashes of {@code chunk} into {@code dst}; returns how many pages the chunk has. */
    int pageHashes(FileChannel ch, long chunk, ByteBuffer dst) throws IOException {
        long first = chunk * SeedHashes.CHUNK_PAGES;
        int n = (int) Math.min(SeedHashes.CHUNK_PAGES, pages - first);
        ByteBuffer part = dst.slice();
        part.limit(n * SeedHashes.HASH_BYTES);
        readFully(ch, part, HEADER_BYTES + (chunks + first) * SeedHashes.HASH_BYTES);
        dst.position(dst.position() + part.limit());
        return n;
    }

    /**
     * Reads a seed's bytes from {@code position} until {@code dst} is full; past the file's end the seed is zeros (an
     * image shorter than the state it seeds, see {@link SeedImages}). A file that shrank behind its description reads
     * as zeros too: what they produce fails the round's state digest, as any other content the description did not
     * promise.
     */
    static void readSeed(FileChannel ch, ByteBuffer dst, long position) throws IOException {
        long p = position;
        while (dst.hasRemaining()) {
            int n = ch.read(dst, p);
            if (n < 0) {
                while (dst.hasRemaining()) {
                    dst.put((byte) 0);
                }
                return;
            }
            p += n;
        }
    }

    static void readFully(FileChannel ch, ByteBuffer dst, long position) throws IOException {
        long p = position;
        while (dst.hasRemaining()) {
            int n = ch.read(dst, p);
            if (n < 0) {
                throw new DwcpException(ErrorCode.IO_ERROR, "unexpected end of file at " + p);
            }
            p += n;
        }
    }

    /**
     * Writes a sidecar while the pages of a state are fed in order: page hashes stream to a staging file, chunk hashes
     * stay in memory until {@link #install}. {@link #discard} deletes the staging file unless it was installed.
     */
    static final class Writer {
        private final Path target;
        private final Path staging;
        private final FileChannel out;
        private final int pageSize;
        private final long stateBytes;
        private final long pages;
        private final long[] chunkHashes;
        private final long[] pageHash = new long[2];
        private final SeedHashes hashes = new SeedHashes();
        private final ByteBuffer buffer = ByteBuffer.allocate(64 << 10);
        private long position;
        private int chunk;
        private long fed;
        private byte[] digest;
        private boolean installed;

        Writer(Path target, int pageSize, long stateBytes) throws IOException {
            this.target = target;
            this.pageSize = pageSize;
            this.stateBytes = stateBytes;
            this.pages = SeedHashes.pages(stateBytes, pageSize);
            long chunks = SeedHashes.chunks(pages);
            if (chunks > SeedWire.MAX_CHUNKS) {
                throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, "a state of " + stateBytes + " bytes in pages of "
                        + pageSize + " has " + chunks + " chunks; descriptions hold at most " + SeedWire.MAX_CHUNKS);
            }
            this.chunkHashes = new long[(int) (2 * chunks)];
            this.staging = target.resolveSibling(target.getFileName() + "." + Long.toHexString(System.nanoTime()) + ".staging");
            this.out = FileChannel.open(staging, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            this.position = HEADER_BYTES + chunks * SeedHashes.HASH_BYTES;
        }

        /** Feeds the next page's bytes (remaining; position unchanged); returns its hash in a reused array. */
        long[] addPage(ByteBuffer page) throws IOException {
            hashes.pageHash(page, pageHash, 0);
            addHash(pageHash[0], pageHash[1]);
            return pageHash;
        }

        /** Feeds the next page's hash, already known. */
        void addHash(long hi, long lo) throws IOException {
            if (fed == pages) {
                throw new IllegalStateException("more pages than the state has");
            }
            fed++;
            if (hashes.addPage(hi, lo, chunkHashes, 2 * chunk)) {
                chunk++;
            }
            if (buffer.remaining() < SeedHashes.HASH_BYTES) {
                drain();
            }
            buffer.putLong(hi).putLong(lo);
        }

        /**
         * Feeds the hashes of every page of the state at once, (hi, lo) per page in page order, before any other: the
         * same sidecar and digest as {@link #addHash} page by page, folded a chunk at a time (a 4 GiB state has a
         * million pages; two digest updates each cost more than the hashing of the hashes).
         */
        void addHashes(long[] all) throws IOException {
            if (fed != 0 || all.length != 2 * pages) {
                throw new IllegalStateException(all.length / 2 + " page hashes for a state of " + pages + " pages, "
                        + fed + " fed before");
            }
            byte[] bytes = new byte[SeedHashes.CHUNK_PAGES * SeedHashes.HASH_BYTES];
            LongBuffer view = ByteBuffer.wrap(bytes).asLongBuffer();
            for (long first = 0; first < pages; first += SeedHashes.CHUNK_PAGES) {
                int n = (int) Math.min(SeedHashes.CHUNK_PAGES, pages - first);
                view.clear();
                view.put(all, (int) (2 * first), 2 * n);
                if (hashes.addPages(bytes, 0, n, chunkHashes, 2 * chunk)) {
                    chunk++;
                }
                int len = n * SeedHashes.HASH_BYTES;
                if (buffer.remaining() < len) {
                    drain();
                }
                buffer.put(bytes, 0, len);
                fed += n;
            }
        }

        private void drain() throws IOException {
            buffer.flip();
            while (buffer.hasRemaining()) {
                position += out.write(buffer, position);
            }
            buffer.clear();
        }

        /** {@return the 32-byte digest of the state fed}, after every page was. */
        byte[] digest() throws IOException {
            if (digest == null) {
                if (fed != pages) {
                    throw new IllegalStateException(fed + " of " + pages + " pages fed");
                }
                if (hashes.finishChunk(chunkHashes, 2 * chunk)) {
                    chunk++;
                }
                drain();
                digest = hashes.stateDigest();
            }
            return digest;
        }

        /** Writes the header and chunk hashes, makes the sidecar durable and renames it over {@code target}. */
        SeedDescription install(Stamp of) throws IOException {
            byte[] version = Arrays.copyOf(digest(), SeedHashes.HASH_BYTES);
            ByteBuffer head = ByteBuffer.allocate(HEADER_BYTES + chunkHashes.length * 8);
            head.putInt(MAGIC).put((byte) VERSION).put((byte) 0).putShort((short) 0).putInt(pageSize)
                    .putInt(SeedHashes.CHUNK_PAGES).putLong(stateBytes).putLong(of.size()).putLong(of.modifiedNanos())
                    .putLong(of.identity()).put(version);
            for (long v : chunkHashes) {
                head.putLong(v);
            }
            head.flip();
            long p = 0;
            while (head.hasRemaining()) {
                p += out.write(head, p);
            }
            out.force(true);
            out.close();
            Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            installed = true;
            return new SeedDescription(target, pageSize, stateBytes, version, of);
        }

        void discard() throws IOException {
            out.close();
            if (!installed) {
                Files.deleteIfExists(staging);
            }
        }
    }
}
