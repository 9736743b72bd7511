package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A replica that is one existing file, written in place by every round, full ones included: for a file another
 * process maps while the migration runs, such as the guest-RAM file ({@code memory-backend-file,share=on}) of a
 * destination QEMU started with {@code -incoming}. {@link FileReplicas} stages a full round in a new file and renames it
 * over the replica; a process that mapped the old file would keep seeing the old inode. This factory never creates,
 * renames, truncates or extends the file: it must exist with exactly the size the rounds announce, and a round of
 * another size is refused.
 *
 * <p>What it gives up for that: a full round that fails part-way has already overwritten part of the file. The replica
 * is then marked inconsistent (in memory: the replica belongs to this receiver process, and a destination that lost its
 * receiver does not run the guest), a delta round on it is refused with {@code BASELINE_MISSING}, so the sender resends
 * in full, and the next full round that commits clears the mark. The file is never valid to run from while a round
 * writes it, nor after a failed round; it is exact when the final round committed. {@link #consistent()} tells.
 *
 * <p>Rounds of other keys go to {@code others} (for example a {@link FileReplicas} directory), or are refused with
 * {@code PROTOCOL_ERROR} when there is none.
 *
 * <p>Thread-safe; one round of the key at a time ({@code KEY_BUSY} for a second one).
 */
public final class InPlaceReplica implements ReplicaFactory {
    private static final Logger LOG = LoggerFactory.getLogger(InPlaceReplica.class);

    private final String key;
    private final Path file;
    private final ReplicaFactory others;
    private final AtomicBoolean busy = new AtomicBoolean();
    /** True once the file may mix two versions; false after a committed round. Starts true: nothing committed yet. */
    private volatile boolean inconsistent = true;
    private volatile boolean committedOnce;

    private InPlaceReplica(String key, Path file, ReplicaFactory others) {
        this.key = Objects.requireNonNull(key, "key");
        this.file = Objects.requireNonNull(file, "file");
        this.others = others;
    }

    /**
     * The replica of {@code key} in the existing regular file {@code file}; rounds of other keys go to {@code others}.
     *
     * @param key the state key whose replica the file is
     * @param file an existing regular file (symbolic links are followed), written in place
     * @param others the factory for other keys, or null to refuse them
     * @return the factory
     * @throws IllegalArgumentException when {@code file} is not an existing regular file
     */
    public static InPlaceReplica of(String key, Path file, ReplicaFactory others) {
        Objects.requireNonNull(file, "file");
        if (!Files.isRegularFile(file, new LinkOption[0])) {
            throw new IllegalArgumentException(file + " is not an existing regular file; an in-place replica writes into"
                    + " a file that already has the state's size (start the destination that maps it first)");
        }
        return new InPlaceReplica(key, file, others);
    }

    /** {@return the key written in place} */
    String key() {
        return key;
    }

    /** {@return the factory of other keys, or null} */
    ReplicaFactory others() {
        return others;
    }

    /** {@return the file} */
    public Path file() {
        return file;
    }

    /**
     * Whether the file holds exactly the state of the last round that committed: true after a committed round until
     * the next round writes into it.
     *
     * @return whether the file is consistent
     */
    public boolean consistent() {
        return committedOnce && !inconsistent && !busy.get();
    }

    @Override
    public VmState<WritableRegion> open(String key, int pageSizeBytes, List<RegionLayout> regions) throws IOException {
        if (!this.key.equals(key)) {
            return other(key).open(key, pageSizeBytes, regions);
        }
        RegionLayout r = check(regions);
        acquire();
        try {
            if (inconsistent) {
                throw new DwcpException(ErrorCode.BASELINE_MISSING, "the in-place replica " + file + " of '" + key
                        + "' holds no committed round (none yet, or a round failed while writing it): only a full round"
                        + " can fill it");
            }
            Round round = new Round();
            return VmState.<WritableRegion>builder(key).pageSizeBytes(pageSizeBytes).lastPagePartial(true)
                    .region(round.region(r, false)).build();
        } catch (IOException | RuntimeException e) {
            busy.set(false);
            throw e;
        }
    }

    @Override
    public StagedReplica openStaged(String key, int pageSizeBytes, List<RegionLayout> regions) throws IOException {
        if (!this.key.equals(key)) {
            return other(key).openStaged(key, pageSizeBytes, regions);
        }
        RegionLayout r = check(regions);
        acquire();
        try {
            Round round = new Round();
            VmState<WritableRegion> state = VmState.<WritableRegion>builder(key).pageSizeBytes(pageSizeBytes)
                    .lastPagePartial(true).region(round.region(r, true)).build();
            return new InPlaceStaged(round, state);
        } catch (IOException | RuntimeException e) {
            busy.set(false);
            throw e;
        }
    }

    private ReplicaFactory other(String key) {
        if (others == null) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "this receiver takes only '" + this.key + "' (into " + file
                    + "), not '" + key + "'");
        }
        return others;
    }

    private RegionLayout check(List<RegionLayout> regions) throws IOException {
        if (regions.size() != 1) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "the in-place replica " + file + " takes a state of one"
                    + " region; '" + key + "' announces " + regions.size());
        }
        RegionLayout r = regions.get(0);
        long size = Files.size(file);
        if (r.sizeBytes() != size) {
            throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, "'" + key + "' announces " + r.sizeBytes() + " bytes but"
                    + " the in-place replica " + file + " is " + size + " bytes; the file is never resized (give both"
                    + " guests the same memory size)");
        }
        return r;
    }

    private void acquire() {
        if (!busy.compareAndSet(false, true)) {
            throw new DwcpException(ErrorCode.KEY_BUSY, "a round of '" + key + "' is already being written into " + file);
        }
    }

    /** One round's hold on the file: marks it inconsistent at the first write, releases the key when closed. */
    private final class Round {
        private final AtomicBoolean closed = new AtomicBoolean();
        private volatile boolean written;

        /** {@code staged}: a full round, which ends at publish or discard rather than when its region closes. */
        WritableRegion region(RegionLayout r, boolean staged) throws IOException {
            WritableRegion region = StateRegions.existingFile(r.name(), file, r.sizeBytes());
            return new GuardedRegion(region, new GuardedRegion.Guard() {
                @Override
                public void beforeWrite() {
                    Round.this.beforeWrite();
                }

                @Override
                public void closed(boolean unflushed) {
                    // A delta round's replica is closed after the round verified and its writes were flushed, or after
                    // a failure (then unflushed writes, or none at all). A full round ends at publish or discard.
                    if (!staged) {
                        end(!unflushed);
                    }
                }

                @Override
                public String toString() {
                    return "InPlace" + region;
                }
            });
        }

        void beforeWrite() {
            if (!written) {
                written = true;
                inconsistent = true;
            }
        }

        /** Ends the round; {@code committed}: every write of it was flushed and the round verified. */
        void end(boolean committed) {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            if (committed) {
                inconsistent = false;
                committedOnce = true;
            } else if (written) {
                LOG.warn("a round of '{}' failed after writing into {} in place; the file is inconsistent until a full"
                        + " round commits", key, file);
            }
            busy.set(false);
        }
    }

    /** A full round written straight into the file; publish flushes it, discarding leaves the file marked. */
    private final class InPlaceStaged implements StagedReplica {
        private final Round round;
        private final VmState<WritableRegion> state;
        private boolean published;
        private boolean closed;

        InPlaceStaged(Round round, VmState<WritableRegion> state) {
            this.round = round;
            this.state = state;
        }

        @Override
        public VmState<WritableRegion> state() {
            return state;
        }

        @Override
        public synchronized void publish() throws IOException {
            if (published) {
                return;
            }
            if (closed) {
                throw new DwcpException(ErrorCode.ILLEGAL_STATE, "the full round of '" + key + "' was discarded");
            }
            for (WritableRegion r : state.regions()) {
                r.flush();
            }
            published = true;
        }

        @Override
        public synchronized void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            try {
                state.close();
            } finally {
                round.end(published);
            }
        }
    }
}
