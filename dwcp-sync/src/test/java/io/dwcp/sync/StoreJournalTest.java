package io.dwcp.sync;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.sync.crdt.OrSet;
import io.dwcp.sync.crdt.PNCounter;
import io.dwcp.sync.crdt.TypeRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StoreJournalTest {
    @TempDir
    Path dir;

    private static ReplicatedStore store(String replica) {
        return new ReplicatedStore(replica, 1 << 20, 100);
    }

    /** A store journaling into {@link #dir}, after recovering what is there. */
    private StoreJournal.Recovery open(ReplicatedStore s) {
        StoreJournal j = new StoreJournal(dir, TypeRegistry.defaults());
        StoreJournal.Recovery r = j.recover(s::mergeState);
        s.journal(j);
        return r;
    }

    private static void work(ReplicatedStore s, int from, int to) {
        for (int n = from; n < to; n++) {
            int i = n;
            s.update("c" + (i % 7), PNCounter.EMPTY, c -> c.addDelta(s.replicaId(), 3));
            s.update("s" + (i % 5), OrSet.EMPTY, o -> o.addDelta(s.replicaId(), "e" + (i % 11)));
            if (i % 4 == 0) {
                s.update("s" + (i % 5), OrSet.EMPTY, o -> o.removeDelta("e" + ((i + 3) % 11)));
            }
            if (i % 9 == 0) {
                s.remove("c" + (i % 7));
            }
        }
    }

    @Test
    void aCrashedReplicaRecoversEveryUpdateFromTheJournal() {
        ReplicatedStore a = store("n1@1");
        assertEquals(0, open(a).journalRecords());
        work(a, 0, 200);
        // no stop, no snapshot: as after kill -9
        ReplicatedStore b = store("n1@2");
        StoreJournal.Recovery r = open(b);
        assertTrue(r.journalRecords() > 400, "records " + r.journalRecords());
        assertEquals(0, r.truncatedBytes());
        assertArrayEquals(a.canonicalSnapshot(), b.canonicalSnapshot());
    }

    @Test
    void snapshotThenJournalRecoverTheWholeStore() {
        ReplicatedStore a = store("n1@1");
        StoreJournal j = new StoreJournal(dir, TypeRegistry.defaults());
        j.recover(a::mergeState);
        a.journal(j);
        work(a, 0, 100);
        // a state received from a peer is journaled, and the snapshot keeps it
        ReplicatedStore peer = store("n2@1");
        peer.update("remote", PNCounter.EMPTY, c -> c.addDelta(peer.replicaId(), 5));
        a.mergeState("remote", peer.state("remote"));
        j.compact(a::canonicalSnapshot);
        assertEquals(0, j.journalBytes());
        work(a, 100, 150);
        ReplicatedStore b = store("n1@2");
        StoreJournal.Recovery r = open(b);
        assertEquals(a.entryCount(), r.snapshotEntries());
        assertArrayEquals(a.canonicalSnapshot(), b.canonicalSnapshot());
        assertTrue(b.get("remote").isPresent());
    }

    @Test
    void receivedStatesAreJournaledSoAnElementInsertedAfterAReceivedOneIsVisibleAfterARestart() {
        ReplicatedStore peer = store("n2@1");
        peer.update("list", io.dwcp.sync.crdt.Rga.EMPTY, l -> l.insertDelta(peer.replicaId(), 0, "x"));
        ReplicatedStore a = store("n1@1");
        open(a);
        a.mergeState("list", peer.state("list")); // received, never compacted into a snapshot
        a.update("list", io.dwcp.sync.crdt.Rga.EMPTY, l -> l.insertDelta(a.replicaId(), 1, "y")); // after "x"
        ReplicatedStore b = store("n1@2"); // a's restart: the journal alone
        StoreJournal.Recovery r = open(b);
        assertEquals(0, r.snapshotEntries());
        assertEquals(2, r.journalRecords(), "the received state and the local insert");
        assertEquals(java.util.List.of("x", "y"), ((io.dwcp.sync.crdt.Rga) b.get("list").orElseThrow()).value());
        assertArrayEquals(a.canonicalSnapshot(), b.canonicalSnapshot());
    }

    @Test
    void aTornTailIsCutAndLaterAppendsRecover() throws IOException {
        ReplicatedStore a = store("n1@1");
        open(a);
        work(a, 0, 20);
        byte[] before = a.canonicalSnapshot();
        Path jp = dir.resolve(StoreJournal.JOURNAL);
        long good = Files.size(jp);
        a.update("last", PNCounter.EMPTY, c -> c.addDelta(a.replicaId(), 1));
        // the last record torn half-way, as by a crash during the write
        long full = Files.size(jp);
        try (FileChannel ch = FileChannel.open(jp, StandardOpenOption.WRITE)) {
            ch.truncate(good + (full - good) / 2);
        }
        ReplicatedStore b = store("n1@2");
        StoreJournal.Recovery r = open(b);
        assertEquals((full - good) / 2, r.truncatedBytes());
        assertArrayEquals(before, b.canonicalSnapshot());
        assertEquals(good, Files.size(jp));
        b.update("after", PNCounter.EMPTY, c -> c.addDelta(b.replicaId(), 2));
        ReplicatedStore c = store("n1@3");
        open(c);
        assertArrayEquals(b.canonicalSnapshot(), c.canonicalSnapshot());
    }

    @Test
    void aFlippedBitEndsReplayAtThatRecord() throws IOException {
        ReplicatedStore a = store("n1@1");
        open(a);
        a.update("x", PNCounter.EMPTY, c -> c.addDelta(a.replicaId(), 1));
        Path jp = dir.resolve(StoreJournal.JOURNAL);
        long first = Files.size(jp);
        a.update("y", PNCounter.EMPTY, c -> c.addDelta(a.replicaId(), 1));
        byte[] bytes = Files.readAllBytes(jp);
        bytes[(int) first + 12] ^= 0x10;
        Files.write(jp, bytes);
        ReplicatedStore b = store("n1@2");
        StoreJournal.Recovery r = open(b);
        assertEquals(1, r.journalRecords());
        assertEquals(Set.of("x"), b.keys());
    }

    @Test
    void aCorruptSnapshotFailsRecoveryNamingTheFile() throws IOException {
        Files.write(dir.resolve(StoreJournal.SNAPSHOT), new byte[]{1, 2, 3});
        StoreJournal j = new StoreJournal(dir, TypeRegistry.defaults());
        DwcpException e = assertThrows(DwcpException.class, () -> j.recover(store("n1@1")::mergeState));
        assertEquals(ErrorCode.CORRUPT_FRAME, e.code());
        assertTrue(e.getMessage().contains(StoreJournal.SNAPSHOT), e.getMessage());
        j.close();
    }

    @Test
    void anUpdateThatCannotBeJournaledChangesNothing() {
        ReplicatedStore a = store("n1@1");
        StoreJournal j = new StoreJournal(dir, TypeRegistry.defaults());
        j.recover(a::mergeState);
        a.journal(j);
        a.update("k", PNCounter.EMPTY, c -> c.addDelta(a.replicaId(), 1));
        byte[] before = a.canonicalSnapshot();
        long root = a.index().root();
        j.close();
        assertThrows(DwcpException.class, () -> a.update("k", PNCounter.EMPTY, c -> c.addDelta(a.replicaId(), 1)));
        assertThrows(DwcpException.class, () -> a.remove("k"));
        assertArrayEquals(before, a.canonicalSnapshot());
        assertEquals(root, a.index().root());
    }
}
