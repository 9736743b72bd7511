package io.dwcp.compression;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.BaselineRef;
import io.dwcp.core.spi.DecodeResult;
import io.dwcp.core.spi.EncodeOptions;
import io.dwcp.core.spi.StateDecoder;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** HDE bad input: corrupt, truncated, reordered, oversized and hostile frames yield only codec errors and change nothing. */
class DecoderRobustnessTest {
    private static final Set<ErrorCode> ALLOWED = EnumSet.of(ErrorCode.CORRUPT_FRAME, ErrorCode.CHECKSUM_MISMATCH,
            ErrorCode.BASELINE_MISSING, ErrorCode.LIMIT_EXCEEDED, ErrorCode.TRANSFER_INCOMPLETE, ErrorCode.DICTIONARY_MISSING);
    private static HdeCodec tx;
    private static HdeCodec rx;
    private static int keys;

    @BeforeContainer
    static void start() {
        DwcpConfig config = DwcpConfig.builder().set("dwcp.compression.batch-size", "64KiB")
                .set("dwcp.compression.level.wan", "zstd:1").set("dwcp.compression.splice", "on").build();
        tx = Rounds.codec(config, Clock.systemUTC(), 2);
        rx = Rounds.codec(config, Clock.systemUTC(), 2);
    }

    @AfterContainer
    static void stop() throws Exception {
        tx.stop();
        rx.stop();
    }

    enum Mutation { FLIP_BIT, FLIP_BIT_RESEAL, TRUNCATE, DROP, SWAP, REPEAT, GARBAGE, RANDOM_FIELD_RESEAL, STOP_EARLY }

    /** A fresh key at baseline s0 on both ends, and valid delta frames to s1. */
    private static final class Fixture {
        final String key = "fuzz-" + (++keys);
        final byte[] s0;
        final byte[] s1;
        final byte[] replica;
        final List<byte[]> keyframe;
        final List<byte[]> delta;

        Fixture(long seed) {
            Random r = new Random(seed);
            int ps = 4096;
            s0 = RoundTripTest.memoryLike(100 * ps, seed);
            s1 = s0.clone();
            for (int i = 0; i < 30; i++) {
                s1[r.nextInt(s1.length)] ^= 0x21;
            }
            System.arraycopy(s0, 3 * ps, s1, 7 * ps, ps);
            byte[] fresh = new byte[ps];
            r.nextBytes(fresh);
            System.arraycopy(fresh, 0, s1, 11 * ps, ps);
            System.arraycopy(fresh, 0, s1, 12 * ps, ps);
            // New pages filling the first batch (a SPLICE round's batches are 4 × batch-size, 256 KiB here), then a
            // page made of pieces of one of them: a copy from the round.
            byte[] more = new byte[64 * ps];
            r.nextBytes(more);
            System.arraycopy(more, 0, s1, 13 * ps, more.length);
            System.arraycopy(s1, 14 * ps + 8, s1, 90 * ps, ps - 8);
            replica = new byte[s0.length];
            Rounds.Encoded k = Rounds.encode(tx, Rounds.state(key, ps, s0), EncodeOptions.keyframe());
            keyframe = k.frames;
            DecodeResult d = Rounds.decode(rx, Rounds.replica(key, ps, replica), keyframe);
            tx.acknowledge(d.baseline());
            Rounds.Encoded e = Rounds.encode(tx, Rounds.state(key, ps, s1), Rounds.against(d.baseline()));
            assertTrue(e.result.pagesByClass().get("splice") >= 1, "the fixture has a round splice to corrupt");
            delta = e.frames;
        }

        void close() {
            tx.drop(key);
            rx.drop(key);
        }
    }

    static void reseal(byte[] f) {
        if (f.length < Wire.CRC_LENGTH) {
            return;
        }
        if (Wire.FRAME_LENGTH_OFFSET + 4 <= f.length - 4) {
            ByteBuffer.wrap(f).order(ByteOrder.BIG_ENDIAN).putInt(Wire.FRAME_LENGTH_OFFSET, f.length);
        }
        CRC32C c = new CRC32C();
        c.update(f, 0, f.length - 4);
        ByteBuffer.wrap(f).putInt(f.length - 4, (int) c.getValue());
    }

    static List<byte[]> mutate(List<byte[]> frames, Mutation m, Random r) {
        List<byte[]> out = new ArrayList<>();
        for (byte[] f : frames) {
            out.add(f.clone());
        }
        int i = r.nextInt(out.size());
        byte[] f = out.get(i);
        switch (m) {
            case FLIP_BIT:
                f[r.nextInt(f.length)] ^= (byte) (1 << r.nextInt(8));
                break;
            case FLIP_BIT_RESEAL:
                f[r.nextInt(Math.max(1, f.length - 4))] ^= (byte) (1 << r.nextInt(8));
                reseal(f);
                break;
            case TRUNCATE:
                out.set(i, java.util.Arrays.copyOf(f, r.nextInt(f.length)));
                break;
            case DROP:
                out.remove(i);
                break;
            case SWAP:
                if (out.size() > 1) {
                    int j = (i + 1 + r.nextInt(out.size() - 1)) % out.size();
                    Collections.swap(out, i, j);
                } else {
                    out.add(f.clone());
                }
                break;
            case REPEAT:
                out.add(i, f.clone());
                break;
            case GARBAGE: {
                byte[] g = new byte[r.nextInt(300)];
                r.nextBytes(g);
                out.add(i, g);
                break;
            }
            case RANDOM_FIELD_RESEAL: {
                // A hostile sender: a header or body field of 4 or 8 bytes set to a random or extreme value, CRC fixed.
                int max = Math.min(f.length - 4, Wire.BATCH_PAYLOAD_OFFSET);
                int at = Wire.SEQUENCE_OFFSET + r.nextInt(Math.max(1, max - Wire.SEQUENCE_OFFSET - 4));
                ByteBuffer b = ByteBuffer.wrap(f);
                int[] extremes = {-1, Integer.MAX_VALUE, 0, 1, r.nextInt()};
                if (at + 4 <= f.length - 4) {
                    b.putInt(at, extremes[r.nextInt(extremes.length)]);
                }
                reseal(f);
                break;
            }
            default:
                out = out.subList(0, i);
                break;
        }
        return out;
    }

    @Property(tries = 250)
    void corruptFramesFailWithCodecErrorsOnlyAndDamageNothing(@ForAll long seed) {
        Random r = new Random(seed);
        Fixture fx = new Fixture(seed);
        try {
            Mutation m = Mutation.values()[r.nextInt(Mutation.values().length)];
            boolean onKeyframe = r.nextInt(4) == 0;
            List<byte[]> bad = mutate(onKeyframe ? fx.keyframe : fx.delta, m, r);
            byte[] before = fx.replica.clone();
            Optional<BaselineRef> baselineBefore = rx.baseline(fx.key);
            try {
                Rounds.decode(rx, Rounds.replica(fx.key, 4096, fx.replica), bad);
                // Only a mutation that changed nothing meaningful may pass, and then the result must be exact.
                assertArrayEquals(onKeyframe ? fx.s0 : fx.s1, fx.replica, "a mutated round (" + m + ") decoded wrongly");
                return;
            } catch (DwcpException e) {
                assertTrue(ALLOWED.contains(e.code()), "unexpected code " + e.code() + " for " + m + ": " + e.getMessage());
            } catch (RuntimeException e) {
                fail("decoder threw " + e + " for " + m);
            }
            assertArrayEquals(before, fx.replica, "replica changed by a failed decode (" + m + ")");
            assertEquals(baselineBefore, rx.baseline(fx.key), "baseline changed by a failed decode (" + m + ")");
            if (!onKeyframe) {
                // The baseline is intact: the valid round still decodes exactly.
                Rounds.decode(rx, Rounds.replica(fx.key, 4096, fx.replica), fx.delta);
                assertArrayEquals(fx.s1, fx.replica);
            }
        } finally {
            fx.close();
        }
    }

    @Example
    void rejectsBatchAboveMaxDecodedFrameBeforeAllocating() {
        Fixture fx = new Fixture(5);
        try {
            byte[] batch = fx.delta.get(1).clone();
            ByteBuffer.wrap(batch).putInt(Wire.BATCH_RAW_LENGTH_OFFSET, Integer.MAX_VALUE);
            reseal(batch);
            try (StateDecoder d = rx.newDecoder(Rounds.replica(fx.key, 4096, fx.replica))) {
                d.accept(ByteBuffer.wrap(fx.delta.get(0)));
                DwcpException e = assertThrows(DwcpException.class, () -> d.accept(ByteBuffer.wrap(batch)));
                assertEquals(ErrorCode.LIMIT_EXCEEDED, e.code());
            }
        } finally {
            fx.close();
        }
    }

    @Example
    void rejectsOversizedFrameBeforeReadingIt() {
        Fixture fx = new Fixture(6);
        try (StateDecoder d = rx.newDecoder(Rounds.replica(fx.key, 4096, fx.replica))) {
            DwcpException e = assertThrows(DwcpException.class, () -> d.accept(ByteBuffer.allocate(80 << 20)));
            assertEquals(ErrorCode.LIMIT_EXCEEDED, e.code());
        } finally {
            fx.close();
        }
    }

    @Example
    void missingEndIsTransferIncompleteAndCommitsNothing() {
        Fixture fx = new Fixture(7);
        try {
            byte[] before = fx.replica.clone();
            try (StateDecoder d = rx.newDecoder(Rounds.replica(fx.key, 4096, fx.replica))) {
                for (int i = 0; i < fx.delta.size() - 1; i++) {
                    d.accept(ByteBuffer.wrap(fx.delta.get(i)));
                }
                DwcpException e = assertThrows(DwcpException.class, d::finish);
                assertEquals(ErrorCode.TRANSFER_INCOMPLETE, e.code());
            }
            assertArrayEquals(before, fx.replica);
        } finally {
            fx.close();
        }
    }

    /**
     * Interrupting the thread that feeds a round, while its batch jobs still wait for a worker, cancels the round: the
     * decoder waits for those jobs to end before it frees the scratch they write (it returns only after the test let
     * them run), gives the interrupt back, and leaves replica and baseline as they were (the same delta then decodes).
     */
    @Example
    void anInterruptMidRoundCancelsItAfterItsJobsEndedAndDamagesNothing() throws Exception {
        Fixture fx = new Fixture(9);
        CountDownLatch busy = new CountDownLatch(2);
        CountDownLatch gate = new CountDownLatch(1);
        Thread feeder = Thread.currentThread();
        try {
            byte[] before = fx.replica.clone();
            // Both workers of the receiving codec wait at the gate, so the round's batch jobs queue behind them.
            for (int i = 0; i < 2; i++) {
                rx.workers().execute(() -> {
                    busy.countDown();
                    try {
                        gate.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            }
            assertTrue(busy.await(10, TimeUnit.SECONDS), "both workers are held");
            // Opens the gate once the feeding thread waits (for the queued jobs), or after 10 s.
            Thread opener = new Thread(() -> {
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (feeder.getState() != Thread.State.WAITING && System.nanoTime() < end) {
                    Thread.onSpinWait();
                }
                gate.countDown();
            });
            DwcpException e;
            try (StateDecoder d = rx.newDecoder(Rounds.replica(fx.key, 4096, fx.replica))) {
                for (int i = 0; i < fx.delta.size() - 1; i++) {
                    d.accept(ByteBuffer.wrap(fx.delta.get(i)));
                }
                opener.start();
                feeder.interrupt();
                e = assertThrows(DwcpException.class, () -> d.accept(ByteBuffer.wrap(fx.delta.get(fx.delta.size() - 1))));
                assertEquals(0, gate.getCount(), "the decoder returned only after its queued jobs could run and end");
                assertTrue(Thread.interrupted(), "the interrupt status is given back");
            }
            opener.join();
            assertEquals(ErrorCode.CANCELLED, e.code(), e.getMessage());
            assertArrayEquals(before, fx.replica);
            DecodeResult again = Rounds.decode(rx, Rounds.replica(fx.key, 4096, fx.replica), fx.delta);
            assertArrayEquals(fx.s1, fx.replica);
            assertEquals(fx.s1.length, again.stateBytes());
        } finally {
            gate.countDown();
            Thread.interrupted();
            fx.close();
        }
    }

    @Example
    void flippedPayloadBitIsChecksumMismatch() {
        Fixture fx = new Fixture(8);
        try (StateDecoder d = rx.newDecoder(Rounds.replica(fx.key, 4096, fx.replica))) {
            byte[] batch = fx.delta.get(1).clone();
            batch[Wire.BATCH_PAYLOAD_OFFSET + 1] ^= 4;
            d.accept(ByteBuffer.wrap(fx.delta.get(0)));
            DwcpException e = assertThrows(DwcpException.class, () -> d.accept(ByteBuffer.wrap(batch)));
            assertEquals(ErrorCode.CHECKSUM_MISMATCH, e.code());
            assertThrows(DwcpException.class, () -> d.accept(ByteBuffer.wrap(fx.delta.get(1))), "decoder is unusable after a failure");
        } finally {
            fx.close();
        }
    }
}
