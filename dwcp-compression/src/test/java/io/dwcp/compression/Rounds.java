package io.dwcp.compression;

import io.dwcp.core.DwcpException;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.BaselineRef;
import io.dwcp.core.spi.DecodeResult;
import io.dwcp.core.spi.EncodeOptions;
import io.dwcp.core.spi.EncodeResult;
import io.dwcp.core.spi.StateDecoder;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;
import io.dwcp.core.testing.TestContext;

import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;

/** Test helpers: states over byte arrays, encoding to a frame list, decoding into a replica. */
final class Rounds {
    private Rounds() {
    }

    static HdeCodec codec(DwcpConfig config, Clock clock, int threads) {
        AtomicLong ids = new AtomicLong(0x1000);
        HdeCodec c = new HdeCodec(new TestContext(config, new io.micrometer.core.instrument.simple.SimpleMeterRegistry(),
                clock, threads), ids::incrementAndGet);
        c.start();
        return c;
    }

    static VmState<StateRegion> state(String key, int pageSize, byte[]... regions) {
        VmState.Builder<StateRegion> b = VmState.<StateRegion>builder(key).pageSizeBytes(pageSize).lastPagePartial(true);
        for (int i = 0; i < regions.length; i++) {
            b.region(StateRegions.ofBuffer("r" + i, ByteBuffer.wrap(regions[i]).asReadOnlyBuffer()));
        }
        return b.build();
    }

    static VmState<WritableRegion> replica(String key, int pageSize, byte[]... regions) {
        VmState.Builder<WritableRegion> b = VmState.<WritableRegion>builder(key).pageSizeBytes(pageSize).lastPagePartial(true);
        for (int i = 0; i < regions.length; i++) {
            b.region(StateRegions.ofBuffer("r" + i, ByteBuffer.wrap(regions[i])));
        }
        return b.build();
    }

    /** Frames of one encode, copied. */
    static final class Encoded {
        final EncodeResult result;
        final List<byte[]> frames;

        Encoded(EncodeResult result, List<byte[]> frames) {
            this.result = result;
            this.frames = frames;
        }
    }

    static Encoded encode(HdeCodec codec, VmState<? extends StateRegion> state, EncodeOptions options) {
        List<byte[]> frames = new ArrayList<>();
        try {
            EncodeResult r = codec.encode(state, options, f -> {
                byte[] b = new byte[f.remaining()];
                f.get(b);
                frames.add(b);
            }).join();
            return new Encoded(r, frames);
        } catch (CompletionException e) {
            DwcpException d = DwcpException.find(e);
            if (d != null) {
                throw d;
            }
            throw e;
        }
    }

    static DecodeResult decode(HdeCodec codec, VmState<? extends WritableRegion> replica, List<byte[]> frames) {
        try (StateDecoder d = codec.newDecoder(replica)) {
            for (byte[] f : frames) {
                d.accept(ByteBuffer.wrap(f));
            }
            return d.finish();
        }
    }

    static EncodeOptions against(BaselineRef ref) {
        return EncodeOptions.builder().peerBaseline(ref).build();
    }
}
