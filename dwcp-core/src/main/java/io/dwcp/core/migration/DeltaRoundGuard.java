package io.dwcp.core.migration;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/*
 * One delta round's hold on a key of a FileReplicas directory: marks the replica inconsistent before its first
 * in-place write, and when the last region closes, clears the mark if every written region was flushed, then releases
 * the key and (a one-region replica written and cleared) has it described in the background. Created by
 * FileReplicas.open for the round's GuardedRegions, which call it; it holds the key from creation until the last
 * region's close.
 *
 * Locking: this object's monitor guards open, marked and unflushed; beforeWrite and closed hold it (regions of one
 * round may be written and closed from different threads).
 */
final class DeltaRoundGuard implements GuardedRegion.Guard {
    /** Logs as {@link FileReplicas}, the class whose logging users configure. */
    private static final Logger LOG = LoggerFactory.getLogger(FileReplicas.class);

    private final ReplicaDirectory directory;
    private final ReplicaDescriptions descriptions;
    private final String key;
    /** Guarded by this: regions not closed yet. */
    private int open;
    /** Guarded by this. */
    private boolean marked;
    /** Guarded by this: a region was closed with writes it had not flushed. */
    private boolean unflushed;

    /** The round's page size, for the description after it; 0: none (more than one region). */
    private final int pageSize;

    DeltaRoundGuard(ReplicaDirectory directory, ReplicaDescriptions descriptions, String key, int regions, int pageSize) {
        this.directory = directory;
        this.descriptions = descriptions;
        this.key = key;
        this.open = regions;
        this.pageSize = regions == 1 ? pageSize : 0;
    }

    @Override
    public synchronized void beforeWrite() throws IOException {
        if (!marked) {
            directory.mark(key, descriptions);
            marked = true;
        }
    }

    @Override
    public synchronized void closed(boolean dirty) {
        unflushed |= dirty;
        if (--open > 0) {
            return;
        }
        try {
            if (marked && !unflushed) {
                directory.unmark(key);
            } else if (marked) {
                LOG.warn("the replica of '{}' in {} was left partly written; it is marked inconsistent and its next"
                        + " round will be a full one", key, directory.path());
            }
        } catch (IOException e) {
            LOG.warn("cannot clear the inconsistency mark of '{}' in {}; its next round will be a full one", key,
                    directory.path(), e);
        } finally {
            directory.release(key);
        }
        if (marked && !unflushed && pageSize > 0 && !directory.inconsistent(key)) {
            descriptions.describeLater(key, pageSize);
        }
    }
}
