package io.dwcp.sync;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.sync.crdt.CanonicalReader;
import io.dwcp.sync.crdt.CanonicalWriter;
import io.dwcp.sync.crdt.OrMap;
import io.dwcp.sync.crdt.TypeRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import java.util.zip.CRC32C;

/**
 * A replica's store on disk ({@code dwcp.sync.data-dir}): a snapshot of every entry ({@code sync.snapshot}) and a
 * journal of the local updates made since ({@code sync.journal}).
 *
 * <p>Every local update's delta is appended to the journal before the update returns, so an update a caller saw
 * succeed survives a crash of the process (the write reaches the operating system; it is not forced to the device, so
 * a power loss may lose the last ones). Received states are not journaled: they are held by their origins, which
 * journal them, and anti-entropy brings them back. The snapshot is written at stop and when the owner finds the
 * journal too long ({@link #compact}): to a temporary file, forced, then renamed over the old one, after which the journal is
 * emptied; a crash in between leaves both, and replaying a delta already in the snapshot changes nothing (merges are
 * idempotent).
 *
 * <p>Journal record: u32 payload length, u32 CRC-32C of the payload, payload = the wire's <i>entries</i> encoding of
 * one entry. Snapshot: the <i>entries</i> encoding of the whole store ({@link ReplicatedStore#canonicalSnapshot()}).
 * A torn or corrupt journal tail (a crash during an append) is cut off at recovery and logged; a snapshot that does
 * not decode fails the start with {@code CORRUPT_FRAME} naming the file, so that no state is silently dropped.
 *
 * <p>Thread-safe: appends and compaction hold this object's lock.
 */
final class StoreJournal implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StoreJournal.class);
    static final String SNAPSHOT = "sync.snapshot";
    static final String JOURNAL = "sync.journal";
    private static final int HEADER = 8;

    private final Path dir;
    private final TypeRegistry registry;
    /** @GuardedBy("this") */
    private FileChannel journal;
    /** @GuardedBy("this") */
    private long journalBytes;

    /** Opens (creating) {@code dir}; nothing is read until {@link #recover}. */
    StoreJournal(Path dir, TypeRegistry registry) {
        this.dir = dir;
        this.registry = registry;
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new DwcpException(ErrorCode.IO_ERROR, "cannot create dwcp.sync.data-dir " + dir + ": " + e.getMessage(), e);
        }
    }

    /** What recovery found. */
    record Recovery(int snapshotEntries, int journalRecords, long truncatedBytes) {
    }

    /**
     * Feeds the snapshot's entries, then the journal's, to {@code merge} (in that order), cuts a torn journal tail, and
     * opens the journal for appends.
     */
    synchronized Recovery recover(BiConsumer<String, OrMap> merge) {
        int snapshotEntries = 0;
        Path snap = dir.resolve(SNAPSHOT);
        try {
            if (Files.exists(snap)) {
                byte[] b = Files.readAllBytes(snap);
                CanonicalReader r = new CanonicalReader(b);
                List<SyncMessage.KeyState> entries = SyncWire.readEntries(r, registry);
                r.end();
                for (SyncMessage.KeyState ks : entries) {
                    merge.accept(ks.key(), ks.state());
                }
                snapshotEntries = entries.size();
            }
        } catch (DwcpException e) {
            throw new DwcpException(ErrorCode.CORRUPT_FRAME, "the sync snapshot " + snap + " does not decode (" + e.getMessage()
                    + "); move it away to start this replica empty and refill it from its peers", e);
        } catch (IOException e) {
            throw new DwcpException(ErrorCode.IO_ERROR, "cannot read the sync snapshot " + snap + ": " + e.getMessage(), e);
        }
        Path jp = dir.resolve(JOURNAL);
        int records = 0;
        long good = 0;
        long size;
        try {
            journal = FileChannel.open(jp, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            size = journal.size();
            ByteBuffer head = ByteBuffer.allocate(HEADER);
            while (good + HEADER <= size) {
                head.clear();
                readFully(journal, head, good);
                int len = head.getInt(0);
                int crc = head.getInt(4);
                if (len <= 0 || len > size - good - HEADER) {
                    break;
                }
                ByteBuffer payload = ByteBuffer.allocate(len);
                readFully(journal, payload, good + HEADER);
                CRC32C c = new CRC32C();
                c.update(payload.array());
                if ((int) c.getValue() != crc) {
                    break;
                }
                List<SyncMessage.KeyState> entries;
                try {
                    CanonicalReader r = new CanonicalReader(payload.array());
                    entries = SyncWire.readEntries(r, registry);
                    r.end();
                } catch (DwcpException e) {
                    break; // a checksummed record that does not decode: written by another version; stop here
                }
                for (SyncMessage.KeyState ks : entries) {
                    merge.accept(ks.key(), ks.state());
                }
                records++;
                good += HEADER + len;
            }
            if (good < size) {
                LOG.warn("sync journal {}: cut {} bytes of torn or corrupt tail after {} records", jp, size - good, records);
                journal.truncate(good);
            }
            journal.position(good);
            journalBytes = good;
        } catch (IOException e) {
            closeQuietly();
            throw new DwcpException(ErrorCode.IO_ERROR, "cannot read the sync journal " + jp + ": " + e.getMessage(), e);
        }
        return new Recovery(snapshotEntries, records, size - good);
    }

    /**
     * Appends one local update's delta; returns once the write reached the operating system.
     *
     * @throws DwcpException {@code IO_ERROR} when it cannot be written (the caller's update is then refused)
     */
    synchronized void append(String key, OrMap delta) {
        if (journal == null) {
            throw new DwcpException(ErrorCode.ILLEGAL_STATE, "sync journal is closed");
        }
        byte[] payload = new CanonicalWriter().varint(1).string(key).bytes(delta.encode()).toByteArray();
        CRC32C c = new CRC32C();
        c.update(payload);
        ByteBuffer b = ByteBuffer.allocate(HEADER + payload.length);
        b.putInt(payload.length).putInt((int) c.getValue()).put(payload).flip();
        try {
            while (b.hasRemaining()) {
                journal.write(b);
            }
        } catch (IOException e) {
            // a partial record is cut at the next recovery; later appends must not follow it
            try {
                journal.truncate(journalBytes);
                journal.position(journalBytes);
            } catch (IOException ignored) {
                // recovery cuts it instead
            }
            throw new DwcpException(ErrorCode.IO_ERROR, "cannot journal the update of '" + key + "' in " + dir + ": "
                    + e.getMessage() + "; the update was not applied", e);
        }
        journalBytes += b.limit();
    }

    /** Bytes in the journal (records since the last snapshot). */
    synchronized long journalBytes() {
        return journalBytes;
    }

    /**
     * Writes {@code snapshot} (the whole store, taken while holding this lock so that no append slips between it and
     * the journal's reset) and empties the journal.
     */
    synchronized void compact(Supplier<byte[]> snapshot) {
        if (journal == null) {
            return;
        }
        Path tmp = dir.resolve(SNAPSHOT + ".tmp");
        try {
            byte[] bytes = snapshot.get();
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.force(true);
            }
            try {
                Files.move(tmp, dir.resolve(SNAPSHOT), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, dir.resolve(SNAPSHOT), StandardCopyOption.REPLACE_EXISTING);
            }
            journal.truncate(0);
            journal.position(0);
            journalBytes = 0;
        } catch (IOException e) {
            // the journal is kept: nothing is lost, the next compaction tries again
            LOG.warn("sync snapshot in {} failed ({}); the journal is kept", dir, e.getMessage());
        }
    }

    @Override
    public synchronized void close() {
        closeQuietly();
    }

    private void closeQuietly() {
        if (journal != null) {
            try {
                journal.close();
            } catch (IOException e) {
                LOG.debug("closing the sync journal: {}", e.getMessage());
            }
            journal = null;
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
        long p = position;
        while (b.hasRemaining()) {
            int n = ch.read(b, p);
            if (n < 0) {
                throw new IOException("unexpected end of file at " + p);
            }
            p += n;
        }
    }
}
