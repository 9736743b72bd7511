package io.dwcp.sync;

import io.dwcp.sync.crdt.TypeRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * The sync store's journal while the component runs with dwcp.sync.data-dir: opened and replayed into the store at
 * start (attach), snapshotted when it outgrows the store (compactIfDue, on the run's timer thread), snapshotted and
 * closed at stop or after a failed start (detach).
 *
 * Owned by AssSync. Locking: attach and detach run under AssSync's lifecycle lock, so at most one journal is open;
 * `journal` is volatile so the timer's compactIfDue sees the one attached (a compaction racing a detach is ordered by
 * StoreJournal's own lock: a closed journal ignores it).
 */
final class JournalKeeper {
    /** Logs under the component's name, as before the journal had a keeper of its own. */
    private static final Logger LOG = LoggerFactory.getLogger(AssSync.class);

    /** The store on disk while running with dwcp.sync.data-dir; null otherwise. */
    private volatile StoreJournal journal;

    /** Whether a journal is attached (the run then schedules compactIfDue). */
    boolean attached() {
        return journal != null;
    }

    /**
     * Opens the journal in {@code s.dataDir} (when set), replays it into {@code store}, then journals every later change
     * of the store; under the lifecycle lock. A journal that fails to replay is closed again and the failure rethrown.
     */
    void attach(SyncSettings s, ReplicatedStore store, TypeRegistry registry) {
        if (s.dataDir == null) {
            return;
        }
        StoreJournal j = new StoreJournal(s.dataDir, registry);
        StoreJournal.Recovery r;
        try {
            r = j.recover(store::mergeState);
        } catch (RuntimeException e) {
            j.close();
            throw e;
        }
        store.journal(j);
        journal = j;
        LOG.info("sync store recovered from {}: {} snapshot entries, {} journaled updates", s.dataDir,
                r.snapshotEntries(), r.journalRecords());
    }

    /** Snapshots the store once the journal outgrows both a floor and the store's own encoded size. */
    void compactIfDue(ReplicatedStore store) {
        StoreJournal j = journal;
        if (j != null && j.journalBytes() > Math.max(AssSync.JOURNAL_COMPACT_MIN_BYTES, store.stateBytes())) {
            j.compact(store::canonicalSnapshot);
        }
    }

    /** Optionally snapshots, then closes the journal and stops journaling; under the lifecycle lock. */
    void detach(boolean snapshot, ReplicatedStore store) {
        StoreJournal j = journal;
        if (j != null) {
            if (snapshot) {
                j.compact(store::canonicalSnapshot);
            }
            store.journal(null);
            j.close();
            journal = null;
        }
    }
}
