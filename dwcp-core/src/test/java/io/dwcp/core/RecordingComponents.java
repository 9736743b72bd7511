package io.dwcp.core;

import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.EncodeOptions;
import io.dwcp.core.spi.EncodeResult;
import io.dwcp.core.spi.FrameSink;
import io.dwcp.core.transport.Session;
import io.dwcp.core.spi.StateCodec;
import io.dwcp.core.spi.StateCodecProvider;
import io.dwcp.core.spi.StateDecoder;
import io.dwcp.core.transport.TransferHandler;
import io.dwcp.core.transport.Transport;
import io.dwcp.core.transport.TransportListener;
import io.dwcp.core.spi.TransportProvider;
import io.dwcp.core.spi.BaselineRef;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Test components that record lifecycle calls into a shared event log and fail on demand. They implement only the
 * lifecycle; data-path calls throw, since manager tests never make them.
 */
final class RecordingComponents {
    private RecordingComponents() {
    }

    /** Shared, ordered log of "start:name" / "stop:name" events. */
    static final class Log {
        final List<String> events = new CopyOnWriteArrayList<>();
    }

    abstract static class Recording {
        final String name;
        final Log log;
        volatile ComponentContext context;
        volatile int failStarts;
        volatile Health health = Health.healthy("ok");
        volatile int starts;

        Recording(String name, Log log) {
            this.name = name;
            this.log = log;
        }

        public String name() {
            return name;
        }

        public void start() throws Exception {
            starts++;
            log.events.add("start:" + name);
            if (failStarts > 0) {
                failStarts--;
                throw new IllegalStateException(name + " cannot bind");
            }
        }

        public void stop() {
            log.events.add("stop:" + name);
        }

        public Health health() {
            return health;
        }
    }

    static final class RecordingTransport extends Recording implements Transport {
        RecordingTransport(Log log) {
            super("transport", log);
        }

        @Override
        public CompletableFuture<TransportListener> listen(InetSocketAddress bindAddress, TransferHandler handler) {
            throw new UnsupportedOperationException("lifecycle-only test component");
        }

        @Override
        public CompletableFuture<Session> connect(InetSocketAddress remoteAddress, TransferHandler handler) {
            throw new UnsupportedOperationException("lifecycle-only test component");
        }
    }

    static final class RecordingCodec extends Recording implements StateCodec {
        RecordingCodec(Log log) {
            super("compression", log);
        }

        @Override
        public CompletableFuture<EncodeResult> encode(VmState<? extends StateRegion> state, EncodeOptions options, FrameSink sink) {
            throw new UnsupportedOperationException("lifecycle-only test component");
        }

        @Override
        public StateDecoder newDecoder(VmState<? extends WritableRegion> replica) {
            throw new UnsupportedOperationException("lifecycle-only test component");
        }

        @Override
        public void acknowledge(BaselineRef ref) {
            throw new UnsupportedOperationException("lifecycle-only test component");
        }

        @Override
        public Optional<BaselineRef> baseline(String key) {
            return Optional.empty();
        }

        @Override
        public void drop(String key) {
        }
    }

    static TransportProvider provider(RecordingTransport t) {
        return new TransportProvider() {
            @Override
            public String name() {
                return "recording";
            }

            @Override
            public Transport create(ComponentContext context) {
                t.context = context;
                return t;
            }
        };
    }

    static StateCodecProvider provider(RecordingCodec c) {
        return new StateCodecProvider() {
            @Override
            public String name() {
                return "recording";
            }

            @Override
            public StateCodec create(ComponentContext context) {
                c.context = context;
                return c;
            }
        };
    }
}
