package io.dwcp.core.migration;

import io.dwcp.core.spi.StateCodec;
import io.dwcp.core.spi.StateDecoder;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.ToLongFunction;

/**
 * Scratch files for a receiver's codec delta rounds, in the replica directory ({@link FileReplicas#createPagesFile}): the
 * codec keeps the pages a delta replaces there until the round is verified, instead of memory of its own, so a
 * long-lived receiver's peak is not the size of the change. A file is made only when the directory's file system has
 * room for the whole state and {@link SeedDecoder#STAGING_HEADROOM} besides (a delta's pages are at most the state):
 * staging never takes the room the replica's own writes need; otherwise the round stays in memory, as without a
 * directory. The file is deleted when the codec closes its channel; one left by a crash is deleted when the directory
 * is opened again (it is a staging file of the directory).
 */
final class DeltaScratch {
    private static final Logger LOG = LoggerFactory.getLogger(DeltaScratch.class);

    private DeltaScratch() {
    }

    /** A decoder of a delta round into {@code replica}, with scratch files when {@code replicas} has a directory. */
    static StateDecoder decoder(StateCodec codec, ReplicaFactory replicas, VmState<? extends WritableRegion> replica) {
        FileReplicas files = SeedSources.files(replicas);
        if (files == null) {
            return codec.newDecoder(replica);
        }
        String key = replica.key();
        long stateBytes = replica.totalBytes();
        return codec.newDecoder(replica, () -> open(files, key, stateBytes, SeedBatchStore::usableSpace));
    }

    /**
     * Opens a new scratch file of {@code key} in {@code files}' directory, deleted on close; {@return the channel, or
     * null when the file system has less room than {@code stateBytes} and the headroom}
     */
    static FileChannel open(FileReplicas files, String key, long stateBytes, ToLongFunction<Path> usableSpace)
            throws IOException {
        Path p = files.createPagesFile(key);
        try {
            long free = usableSpace.applyAsLong(p);
            if (free - SeedDecoder.STAGING_HEADROOM < stateBytes) {
                LOG.info("{} bytes free beside the replica of {}, less than the state and {} bytes besides: its delta"
                        + " round keeps its pages in memory", free, key, SeedDecoder.STAGING_HEADROOM);
                Files.deleteIfExists(p);
                return null;
            }
            return FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE,
                    StandardOpenOption.DELETE_ON_CLOSE);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(p);
            throw e;
        }
    }
}
