package io.dwcp.compression;

import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.DecodeResult;
import io.dwcp.core.spi.EncodeOptions;
import io.dwcp.core.spi.EncodeResult;
import io.dwcp.core.spi.StateDecoder;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Slow (real corpus, 1 GiB states, {@code -Pslow}): s0 keyframe then s0→s1→s30 deltas of real guest RAM round-trip
 * exactly, states read from files and the replica in a file (no whole-state array anywhere). Skipped when the corpus
 * of {@code ../shared/vmcorpus/make-corpus.sh} is absent.
 */
@Tag("slow")
class CorpusIT {
    private static final Path DIR = Path.of(System.getProperty("hde.corpus", "/var/tmp/vmcorpus/1g"));

    @Test
    void realSnapshotsRoundTripThroughKeyframeAndDeltas(@TempDir Path tmp) throws Exception {
        assumeTrue(Files.exists(DIR.resolve("s30.ram")), "corpus not present at " + DIR);
        HdeCodec tx = Rounds.codec(DwcpConfig.defaults(), Clock.systemUTC(), 2);
        HdeCodec rx = Rounds.codec(DwcpConfig.defaults(), Clock.systemUTC(), 2);
        long size = Files.size(DIR.resolve("s0.ram"));
        try (VmState<WritableRegion> replica = VmState.<WritableRegion>builder("vm")
                .region(StateRegions.fileReplica("ram", tmp.resolve("replica.ram"), size)).build()) {
            EncodeOptions options = EncodeOptions.keyframe();
            for (String snap : List.of("s0", "s1", "s30")) {
                try (VmState<StateRegion> s = VmState.of("vm", StateRegions.ofFile(DIR.resolve(snap + ".ram")))) {
                    List<byte[]> frames = new ArrayList<>();
                    EncodeResult r = tx.encode(s, options, f -> {
                        byte[] b = new byte[f.remaining()];
                        f.get(b);
                        frames.add(b);
                    }).join();
                    assertEquals(!snap.equals("s0"), !r.keyframe(), snap);
                    DecodeResult d;
                    try (StateDecoder dec = rx.newDecoder(replica)) {
                        for (byte[] f : frames) {
                            dec.accept(ByteBuffer.wrap(f));
                        }
                        d = dec.finish();
                    }
                    tx.acknowledge(d.baseline());
                    options = EncodeOptions.builder().peerBaseline(d.baseline()).build();
                    assertFalse(differs(s.region(0), replica.region(0)), snap + " replica differs");
                }
            }
        } finally {
            tx.stop();
            rx.stop();
        }
    }

    private static boolean differs(StateRegion a, StateRegion b) throws Exception {
        ByteBuffer x = ByteBuffer.allocateDirect(8 << 20);
        ByteBuffer y = ByteBuffer.allocateDirect(8 << 20);
        for (long off = 0; off < a.sizeBytes(); off += x.capacity()) {
            int n = (int) Math.min(x.capacity(), a.sizeBytes() - off);
            x.clear().limit(n);
            y.clear().limit(n);
            a.read(off, x);
            b.read(off, y);
            if (x.flip().mismatch(y.flip()) >= 0) {
                return true;
            }
        }
        return false;
    }
}
