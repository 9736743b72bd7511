package io.dwcp.compression;

import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.DecodeResult;
import io.dwcp.core.spi.EncodeOptions;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A sender reading immutable snapshots ({@link StateRegions#mappedSnapshot}) keeps views of the last acknowledged one
 * as its baseline instead of a copy: rounds stay exact, the baseline follows each acknowledged delta, and a state that
 * is not a snapshot after one starts a new chain.
 */
class SnapshotBaselineTest {
    private static final int PS = 4096;
    private static final int PAGES = 300;
    private static HdeCodec tx;
    private static HdeCodec rx;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        DwcpConfig config = DwcpConfig.builder().set("dwcp.compression.batch-size", "64KiB")
                .set("dwcp.compression.level.wan", "zstd:1").set("dwcp.compression.splice", "on").build();
        tx = Rounds.codec(config, Clock.systemUTC(), 2);
        rx = Rounds.codec(config, Clock.systemUTC(), 2);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        tx.stop();
        rx.stop();
    }

    /** Four versions with every kind of edit between them (sparse, moved, pieces, zero, duplicate, rewritten). */
    private static List<byte[]> versions(long seed) {
        List<byte[]> out = new ArrayList<>();
        byte[] v = RoundTripTest.memoryLike(PAGES * PS, seed);
        out.add(v);
        Random r = new Random(seed);
        for (int i = 0; i < 3; i++) {
            List<RoundTripTest.Edit> edits = new ArrayList<>();
            for (RoundTripTest.EditKind k : RoundTripTest.EditKind.values()) {
                for (int j = 0; j < 4; j++) {
                    edits.add(new RoundTripTest.Edit(k, r.nextInt(PAGES), r.nextInt(PAGES), r.nextLong()));
                }
            }
            v = RoundTripTest.apply(v, PS, edits);
            out.add(v);
        }
        return out;
    }

    private Path file(String name, byte[] content) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, content);
        return p;
    }

    private static VmState<StateRegion> snapshot(String key, StateRegion region) {
        return VmState.<StateRegion>builder(key).pageSizeBytes(PS).region(region).build();
    }

    /** The sender's committed baseline of {@code key}: its store kind and its pages, compared with {@code expected}. */
    private static boolean senderBaselineIsViewsOf(String key, byte[] expected) {
        Baseline b = tx.baselines().acquire(BaselineStore.Side.SENDER, key);
        try {
            byte[] page = new byte[PS];
            for (int p = 0; p < PAGES; p++) {
                b.store.chunk(p).get(b.store.offset(p), page);
                assertArrayEquals(java.util.Arrays.copyOfRange(expected, p * PS, (p + 1) * PS), page, "baseline page " + p);
            }
            return b.store.isViews();
        } finally {
            b.release();
        }
    }

    @Test
    void snapshotRoundsAreExactAndTheBaselineViewsTheLastAcknowledgedSnapshot() throws IOException {
        String key = "snap";
        List<byte[]> versions = versions(11);
        byte[] replica = new byte[PAGES * PS];
        DecodeResult prev = null;
        long pooledBefore = tx.chunks().pooledBytes();
        try {
            for (int i = 0; i < versions.size(); i++) {
                try (StateRegion region = StateRegions.mappedSnapshot(file("s" + i, versions.get(i)))) {
                    EncodeOptions options = prev == null ? EncodeOptions.keyframe() : Rounds.against(prev.baseline());
                    Rounds.Encoded e = Rounds.encode(tx, snapshot(key, region), options);
                    assertEquals(i == 0, e.result.keyframe(), "round " + i);
                    prev = Rounds.decode(rx, Rounds.replica(key, PS, replica), e.frames);
                    assertArrayEquals(versions.get(i), replica, "round " + i);
                    tx.acknowledge(prev.baseline());
                }
                // The region is closed; its views, now the sender's baseline, stay valid.
                assertTrue(senderBaselineIsViewsOf(key, versions.get(i)), "round " + i);
                assertEquals(0, tx.baselines().bytes(), "views are not counted against the memory cap");
            }
            assertEquals(pooledBefore, tx.chunks().pooledBytes(), "no direct memory went through the sender's pool");
        } finally {
            tx.drop(key);
            rx.drop(key);
        }
    }

    @Test
    void aStateThatIsNotASnapshotAfterASnapshotBaselineIsAKeyframeAndLaterDeltasCopyAgain() throws IOException {
        String key = "mixed";
        List<byte[]> v = versions(12);
        byte[] replica = new byte[PAGES * PS];
        try {
            DecodeResult d0;
            try (StateRegion region = StateRegions.mappedSnapshot(file("s0", v.get(0)))) {
                Rounds.Encoded k = Rounds.encode(tx, snapshot(key, region), EncodeOptions.keyframe());
                d0 = Rounds.decode(rx, Rounds.replica(key, PS, replica), k.frames);
                tx.acknowledge(d0.baseline());
            }
            Rounds.Encoded live = Rounds.encode(tx, Rounds.state(key, PS, v.get(1)), Rounds.against(d0.baseline()));
            assertTrue(live.result.keyframe(), "a baseline of views cannot take pages of a live state");
            DecodeResult d1 = Rounds.decode(rx, Rounds.replica(key, PS, replica), live.frames);
            assertArrayEquals(v.get(1), replica);
            tx.acknowledge(d1.baseline());
            assertFalse(senderBaselineIsViewsOf(key, v.get(1)));
            assertEquals((long) PAGES * PS, tx.baselines().bytes(), "a copied baseline counts");
            // A snapshot delta against a copied baseline: its pages are read from the views, copied on apply.
            try (StateRegion region = StateRegions.mappedSnapshot(file("s2", v.get(2)))) {
                Rounds.Encoded d = Rounds.encode(tx, snapshot(key, region), Rounds.against(d1.baseline()));
                assertFalse(d.result.keyframe());
                DecodeResult d2 = Rounds.decode(rx, Rounds.replica(key, PS, replica), d.frames);
                assertArrayEquals(v.get(2), replica);
                tx.acknowledge(d2.baseline());
            }
            assertFalse(senderBaselineIsViewsOf(key, v.get(2)));
        } finally {
            tx.drop(key);
            rx.drop(key);
        }
    }

    @Test
    void onlyImmutableRegionsOfWholePagesBecomeViewStores() throws IOException {
        Path whole = file("whole", new byte[8 * PS]);
        Path partial = file("partial", new byte[8 * PS + 100]);
        try (StateRegion mapped = StateRegions.mapped(whole);
             StateRegion snapshot = StateRegions.mappedSnapshot(whole);
             StateRegion partialSnapshot = StateRegions.mappedSnapshot(partial)) {
            assertNull(PageStore.views(PS, 8, mapped), "a mapping that may change is copied");
            assertNull(PageStore.views(PS, 9, partialSnapshot), "a partial last page is copied (padded)");
            PageStore views = PageStore.views(PS, 8, snapshot);
            assertTrue(views.isViews());
            assertThrows(IllegalStateException.class, () -> views.writePage(0, ByteBuffer.allocate(PS), 0));
            views.close();
        }
    }
}
