package io.dwcp.bench;

import io.dwcp.core.DwcpManager;
import io.dwcp.core.migration.MigrationReceiver;
import io.dwcp.core.migration.ReplicaFactory;
import io.dwcp.core.spi.TransportListener;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Pattern;

/**
 * {@code dwcp receive --listen HOST:PORT --out DIR}: accepts migrations until killed and writes each state to
 * {@code DIR/KEY} (one file per region, {@code DIR/KEY.REGION}, when a state has several). Every round is verified
 * (frame checksums and the whole-state digest) before it touches the file; a line per verified round goes to stdout
 * (JSON with {@code --json}).
 */
final class ReceiveCommand implements DwcpCli.Command {
    /** No leading dot: not ".", "..", a hidden file or another key's staging file. */
    private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}");

    @Override
    public String summary() {
        return "receive migrations into --out DIR until killed; verifies every round";
    }

    @Override
    public int run(String[] args) throws Exception {
        CliArgs a = new CliArgs(args, union(NodeOptions.WITH_VALUE, "listen", "out"), NodeOptions.FLAGS);
        if (a.flag("help")) {
            System.err.println("usage: dwcp receive --listen HOST:PORT --out DIR " + NodeOptions.USAGE);
            return 0;
        }
        Path out = Files.createDirectories(Path.of(a.require("out")));
        boolean json = a.flag("json");
        DwcpManager manager = NodeOptions.manager(NodeOptions.config(a));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            manager.close();
            stopped.countDown();
        }, "dwcp-receive-shutdown"));
        manager.start();
        MigrationReceiver receiver = manager.migrationReceiver(fileReplicas(out), r -> {
            if (json) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("key", r.result().key());
                m.put("round", r.round());
                m.put("stateBytes", r.result().stateBytes());
                m.put("encodedBytes", r.result().encodedBytes());
                m.put("pagesWritten", r.result().pagesWritten());
                m.put("decodeSeconds", r.result().duration().toNanos() / 1e9);
                m.put("verified", true);
                System.out.println(Json.write(m));
            } else {
                System.out.printf("%s round %d verified: %,d bytes of state from %,d encoded bytes, %,d pages written%n",
                        r.result().key(), r.round(), r.result().stateBytes(), r.result().encodedBytes(), r.result().pagesWritten());
            }
            System.out.flush();
        });
        TransportListener listener = manager.transport().listen(NodeOptions.address(a.require("listen")), receiver).join();
        System.err.println("dwcp receive: listening on " + listener.localAddress() + ", writing to " + out);
        stopped.await();
        return 0;
    }

    /**
     * Replicas as files under {@code dir}, created sparse at the announced size. A keyframe round is staged: decoded
     * into {@code DIR/.NAME.staging} files that replace {@code DIR/NAME} by an atomic rename only after the round
     * verified, so the decode can write the file while frames still arrive and a failed round leaves the old file.
     * Each file is replaced atomically; a state of several regions is replaced file by file.
     */
    static ReplicaFactory fileReplicas(Path dir) {
        return new ReplicaFactory() {
            @Override
            public VmState<WritableRegion> open(String key, int pageSize, List<RegionLayout> regions) throws IOException {
                return files(key, pageSize, regions, n -> dir.resolve(n), false);
            }

            @Override
            public StagedReplica openStaged(String key, int pageSize, List<RegionLayout> regions) throws IOException {
                Map<Path, Path> renames = new LinkedHashMap<>();
                VmState<WritableRegion> state = files(key, pageSize, regions, n -> {
                    Path staging = dir.resolve("." + n + ".staging");
                    renames.put(staging, dir.resolve(n));
                    return staging;
                }, true);
                return new StagedFiles(dir, state, renames);
            }
        };
    }

    private static VmState<WritableRegion> files(String key, int pageSize, List<ReplicaFactory.RegionLayout> regions,
                                                 java.util.function.Function<String, Path> path, boolean fresh)
            throws IOException {
        if (!SAFE_NAME.matcher(key).matches()) {
            throw new IOException("state key '" + key + "' is not a safe file name ([A-Za-z0-9._-], at most 200 chars, not starting with '.')");
        }
        VmState.Builder<WritableRegion> b = VmState.<WritableRegion>builder(key).pageSizeBytes(pageSize).lastPagePartial(true);
        try {
            for (ReplicaFactory.RegionLayout r : regions) {
                if (!SAFE_NAME.matcher(r.name()).matches()) {
                    throw new IOException("region name '" + r.name() + "' is not a safe file name");
                }
                String name = regions.size() == 1 ? key : key + "." + r.name();
                Path file = path.apply(name);
                if (fresh) {
                    // A leftover staging file of a crashed receiver holds stale pages: start from an empty one.
                    Files.deleteIfExists(file);
                }
                b.region(StateRegions.fileReplica(r.name(), file, r.sizeBytes()));
            }
            return b.build();
        } catch (IOException | RuntimeException e) {
            b.build().close();
            throw e;
        }
    }

    /** Staging files renamed over the replica files on publish, deleted on close when not published. */
    private static final class StagedFiles implements ReplicaFactory.StagedReplica {
        private final Path dir;
        private final VmState<WritableRegion> state;
        private final Map<Path, Path> renames;
        private boolean published;
        private boolean closed;

        StagedFiles(Path dir, VmState<WritableRegion> state, Map<Path, Path> renames) {
            this.dir = dir;
            this.state = state;
            this.renames = renames;
        }

        @Override
        public VmState<WritableRegion> state() {
            return state;
        }

        @Override
        public synchronized void publish() throws IOException {
            if (published) {
                return;
            }
            for (WritableRegion r : state.regions()) {
                r.flush();
            }
            for (Map.Entry<Path, Path> e : renames.entrySet()) {
                Files.move(e.getKey(), e.getValue(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            // The renames themselves are durable once the directory is.
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            }
            published = true;
        }

        @Override
        public synchronized void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            try {
                state.close();
            } finally {
                if (!published) {
                    for (Path staging : renames.keySet()) {
                        Files.deleteIfExists(staging);
                    }
                }
            }
        }
    }

    static java.util.Set<String> union(java.util.Set<String> a, String... more) {
        java.util.Set<String> s = new java.util.HashSet<>(a);
        s.addAll(java.util.List.of(more));
        return s;
    }
}
