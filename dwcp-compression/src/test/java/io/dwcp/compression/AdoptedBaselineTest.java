package io.dwcp.compression;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.BaselineRef;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.BitSet;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Baselines adopted without a keyframe (after a replica-seeded round): both ends agree exactly when they hold the same
 * bytes, and the next round is an ordinary delta that decodes into the replica.
 */
class AdoptedBaselineTest {
    private static final int PAGE = 4096;
    private static final int PAGES = 3000;
    private static HdeCodec tx;
    private static HdeCodec rx;

    @BeforeAll
    static void start() {
        DwcpConfig config = DwcpConfig.builder().set("dwcp.compression.level.wan", "zstd:1").build();
        tx = Rounds.codec(config, Clock.systemUTC(), 2);
        rx = Rounds.codec(config, Clock.systemUTC(), 2);
    }

    @AfterAll
    static void stop() throws Exception {
        tx.stop();
        rx.stop();
    }

    private static byte[] memory(long seed, int tailBytes) {
        Random r = new Random(seed);
        byte[] m = new byte[PAGES * PAGE + tailBytes];
        for (int p = 0; p < PAGES; p++) {
            if (r.nextInt(5) == 0) {
                continue;
            }
            for (int i = 0; i < PAGE; i += 8) {
                m[p * PAGE + i] = (byte) r.nextInt(64);
            }
        }
        for (int i = 0; i < tailBytes; i++) {
            m[PAGES * PAGE + i] = (byte) (i + 1);
        }
        return m;
    }

    private static void dirty(byte[] m, long seed, int pages) {
        Random r = new Random(seed);
        for (int k = 0; k < pages; k++) {
            int p = r.nextInt(PAGES);
            m[p * PAGE + r.nextInt(PAGE)] ^= (byte) (1 + r.nextInt(255));
        }
    }

    @Test
    void bothEndsAgreeAndTheNextRoundIsADeltaIntoAMappedReplica(@TempDir Path dir) throws Exception {
        String key = "adopt-file";
        byte[] content = memory(1, 0);
        Path file = dir.resolve(key);
        Files.write(file, content);
        try (WritableRegion region = StateRegions.fileReplica("r0", file, content.length)) {
            VmState<WritableRegion> replica = VmState.<WritableRegion>builder(key).pageSizeBytes(PAGE).region(region).build();
            BaselineRef sent = tx.adoptSent(Rounds.state(key, PAGE, content.clone()), 77).orElseThrow();
            BaselineRef received = rx.adoptReceived(replica, 77).orElseThrow();
            assertEquals(sent, received);
            assertEquals(new BaselineRef(key, 77, 0, sent.digest()), sent);
            assertEquals(sent, tx.baseline(key).orElseThrow(), "the sender's baseline, acknowledged");
            assertEquals(received, rx.baseline(key).orElseThrow());
            for (int round = 1; round <= 2; round++) {
                dirty(content, 10 + round, 40);
                Rounds.Encoded e = Rounds.encode(tx, Rounds.state(key, PAGE, content.clone()),
                        Rounds.against(rx.baseline(key).orElseThrow()));
                assertFalse(e.result.keyframe(), "round " + round + " is a delta against the adopted baseline");
                Rounds.decode(rx, replica, e.frames);
                tx.acknowledge(e.result.produced());
                region.flush();
                assertArrayEquals(content, Files.readAllBytes(file), "round " + round);
                assertEquals(e.result.produced(), rx.baseline(key).orElseThrow());
            }
        }
    }

    @Test
    void aReplicaWrittenWholeIsAdoptedFromThePageHashesOfWhatWasWrittenAsIfRead(@TempDir Path dir) throws Exception {
        String key = "adopt-hashed";
        byte[] content = memory(8, 0);
        Path file = dir.resolve(key);
        Files.write(file, new byte[content.length]);
        java.util.function.ToLongFunction<ByteBuffer> hash = rx.receivedPageHash(PAGE).orElseThrow();
        BaselineRef sent = tx.adoptSent(Rounds.state(key, PAGE, content.clone()), 31).orElseThrow();
        BaselineRef adopted;
        try (WritableRegion region = StateRegions.fileReplica("r0", file, content.length)) {
            VmState<WritableRegion> replica = VmState.<WritableRegion>builder(key).pageSizeBytes(PAGE).region(region).build();
            // The caller writes every page and hashes it on the way (a direct buffer and a heap one alike).
            long[] hashes = new long[PAGES];
            for (int p = 0; p < PAGES; p++) {
                ByteBuffer page = p % 2 == 0 ? ByteBuffer.wrap(content, p * PAGE, PAGE)
                        : ByteBuffer.allocateDirect(PAGE).put(content, p * PAGE, PAGE).flip();
                hashes[p] = hash.applyAsLong(page);
                assertEquals(PAGE, page.remaining(), "the hash leaves the page as it was");
                region.write((long) p * PAGE, page);
            }
            // The hashes are taken, not the replica read: one hash off gives another digest.
            long[] off = hashes.clone();
            off[PAGES / 2] ^= 1;
            assertNotEquals(sent.digest(), rx.adoptReceived(replica, 31, off).orElseThrow().digest());
            adopted = rx.adoptReceived(replica, 31, hashes).orElseThrow();
            assertEquals(sent, adopted, "the same digest as adopting the whole state");
            region.flush();
        } // the replica closes once adopted, as after a round
        try (WritableRegion region = StateRegions.fileReplica("r0", file, content.length)) {
            VmState<WritableRegion> replica = VmState.<WritableRegion>builder(key).pageSizeBytes(PAGE).region(region).build();
            // The next round is a delta against it, decoded into the replica opened again.
            dirty(content, 9, 30);
            Rounds.Encoded e = Rounds.encode(tx, Rounds.state(key, PAGE, content.clone()), Rounds.against(adopted));
            assertFalse(e.result.keyframe());
            Rounds.decode(rx, replica, e.frames);
            region.flush();
            assertArrayEquals(content, Files.readAllBytes(file));
            // Hashes that do not fit the replica's pages are not taken: the whole replica is hashed instead.
            BaselineRef whole = rx.adoptReceived(replica, 32, new long[PAGES - 1]).orElseThrow();
            assertEquals(tx.adoptSent(Rounds.state(key, PAGE, content.clone()), 32).orElseThrow(), whole);
            assertThrows(IllegalArgumentException.class, () -> hash.applyAsLong(ByteBuffer.allocate(PAGE - 1)));
        }
    }

    @Test
    void aDetachedBaselineIsAdoptedFromItsHashesAndTheChangedPagesOnly(@TempDir Path dir) throws Exception {
        String key = "adopt-detached";
        byte[] content = memory(5, 0);
        Path file = dir.resolve(key);
        Files.write(file, content);
        try (WritableRegion region = StateRegions.fileReplica("r0", file, content.length)) {
            VmState<WritableRegion> replica = VmState.<WritableRegion>builder(key).pageSizeBytes(PAGE).region(region).build();
            BaselineRef before = rx.adoptReceived(replica, 21).orElseThrow();
            BaselineRef detached = rx.detachReceived(key).orElseThrow();
            assertEquals(before, detached);
            assertTrue(rx.baseline(key).isEmpty(), "detached is dropped");
            // The round rewrites some pages in place (one of them with what it held: changed, same bytes).
            BitSet changed = new BitSet();
            Random r = new Random(6);
            for (int k = 0; k < 50; k++) {
                int p = r.nextInt(PAGES);
                changed.set(p);
                content[p * PAGE + r.nextInt(PAGE)] ^= (byte) (1 + r.nextInt(255));
                region.write((long) p * PAGE, ByteBuffer.wrap(content, p * PAGE, PAGE));
            }
            changed.set(PAGES - 1);
            BaselineRef adopted = rx.adoptReceived(replica, 22, detached, changed).orElseThrow();
            BaselineRef sent = tx.adoptSent(Rounds.state(key, PAGE, content.clone()), 22).orElseThrow();
            assertEquals(sent, adopted, "the same digest as adopting the whole state");
            // The next round is a delta against it, decoded into the replica.
            dirty(content, 7, 30);
            Rounds.Encoded e = Rounds.encode(tx, Rounds.state(key, PAGE, content.clone()), Rounds.against(adopted));
            assertFalse(e.result.keyframe());
            Rounds.decode(rx, replica, e.frames);
            region.flush();
            assertArrayEquals(content, Files.readAllBytes(file));
        }
    }

    @Test
    void onlyTheNamedPagesAreHashedAgainAndOnlyForTheDetachedBaseline(@TempDir Path dir) throws Exception {
        String key = "adopt-detached-other";
        byte[] content = memory(8, 0);
        Path file = dir.resolve(key);
        Files.write(file, content);
        try (WritableRegion region = StateRegions.fileReplica("r0", file, content.length)) {
            VmState<WritableRegion> replica = VmState.<WritableRegion>builder(key).pageSizeBytes(PAGE).region(region).build();
            rx.adoptReceived(replica, 31).orElseThrow();
            BaselineRef detached = rx.detachReceived(key).orElseThrow();
            // A page written behind the codec's back and not named: the detached hashes stand for it (the caller's
            // word), so the digest is not the replica's.
            content[3 * PAGE] ^= 1;
            region.write(3L * PAGE, ByteBuffer.wrap(content, 3 * PAGE, PAGE));
            BaselineRef trusted = rx.adoptReceived(replica, 32, detached, new BitSet()).orElseThrow();
            assertNotEquals(tx.adoptSent(Rounds.state(key, PAGE, content.clone()), 32).orElseThrow().digest(), trusted.digest());
            // Hashes detached for another baseline than the one named are not used: the whole replica is hashed.
            BaselineRef detachedAgain = rx.detachReceived(key).orElseThrow();
            BaselineRef other = new BaselineRef(key, detachedAgain.id() + 1, 0, detachedAgain.digest());
            BaselineRef adopted = rx.adoptReceived(replica, 33, other, new BitSet()).orElseThrow();
            assertEquals(tx.adoptSent(Rounds.state(key, PAGE, content.clone()), 33).orElseThrow(), adopted);
            // Taken once: after that adoption they are gone, even for the right ref.
            BaselineRef again = rx.adoptReceived(replica, 34, detachedAgain, new BitSet()).orElseThrow();
            assertEquals(tx.adoptSent(Rounds.state(key, PAGE, content.clone()), 34).orElseThrow(), again);
            assertTrue(rx.detachReceived("no-such-key").isEmpty());
        }
    }

    @Test
    void differentContentGivesAnotherDigestAndADeltaAgainstItIsRefused() {
        String key = "adopt-mismatch";
        byte[] sent = memory(2, 100);
        byte[] held = sent.clone();
        held[5 * PAGE + 17] ^= 1;
        BaselineRef mine = tx.adoptSent(Rounds.state(key, PAGE, sent), 5).orElseThrow();
        BaselineRef theirs = rx.adoptReceived(Rounds.replica(key, PAGE, held), 5).orElseThrow();
        assertNotEquals(mine.digest(), theirs.digest());
        Rounds.Encoded e = Rounds.encode(tx, Rounds.state(key, PAGE, sent), Rounds.against(mine));
        assertFalse(e.result.keyframe());
        DwcpException ex = assertThrows(DwcpException.class, () -> Rounds.decode(rx, Rounds.replica(key, PAGE, held), e.frames));
        assertEquals(ErrorCode.BASELINE_MISSING, ex.code());
    }

    @Test
    void anAdoptedBaselineHasTheDigestOfAKeyframeOfTheSameContent() {
        byte[] content = memory(3, 1234);
        Rounds.Encoded k = Rounds.encode(tx, Rounds.state("adopt-kf", PAGE, content), io.dwcp.core.spi.EncodeOptions.builder().build());
        assertTrue(k.result.keyframe());
        BaselineRef adopted = rx.adoptReceived(Rounds.replica("adopt-kf", PAGE, content.clone()), 9).orElseThrow();
        assertEquals(k.result.produced().digest(), adopted.digest());
        assertThrows(IllegalArgumentException.class, () -> tx.adoptSent(Rounds.state("x", PAGE, content), 0));
    }

    @Test
    void aStateThatIsNotASnapshotIsCopied() {
        String key = "adopt-copy";
        byte[] content = memory(4, 0);
        ByteBuffer mutable = ByteBuffer.allocateDirect(content.length).put(content).flip();
        VmState<StateRegion> state = VmState.of(key, StateRegions.ofBuffer("r0", mutable.duplicate()));
        BaselineRef ref = tx.adoptSent(state, 11).orElseThrow();
        mutable.put(0, (byte) 99);
        // The baseline kept the adopted bytes: a delta of the changed state against it carries that change.
        Rounds.Encoded e = Rounds.encode(tx, state, Rounds.against(ref));
        assertFalse(e.result.keyframe());
        assertTrue(e.result.pagesByClass().getOrDefault("unchanged", 0L) >= PAGES - 1, e.result.pagesByClass().toString());
        byte[] replica = content.clone();
        rx.adoptReceived(Rounds.replica(key, PAGE, replica), 11);
        Rounds.decode(rx, Rounds.replica(key, PAGE, replica), e.frames);
        assertEquals(99, replica[0]);
    }
}
