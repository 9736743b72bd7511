package io.dwcp.bench;

import io.dwcp.core.DwcpManager;
import io.dwcp.core.migration.MigrationReceiver;
import io.dwcp.core.migration.ReplicaFactory;
import io.dwcp.core.spi.TransportListener;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
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
    private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9._-]{1,200}");

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

    /** Replicas as files under {@code dir}, created sparse at the announced size. */
    static ReplicaFactory fileReplicas(Path dir) {
        return (key, pageSize, regions) -> {
            if (!SAFE_NAME.matcher(key).matches()) {
                throw new IOException("state key '" + key + "' is not a safe file name ([A-Za-z0-9._-], at most 200 chars)");
            }
            VmState.Builder<WritableRegion> b = VmState.<WritableRegion>builder(key).pageSizeBytes(pageSize).lastPagePartial(true);
            try {
                for (ReplicaFactory.RegionLayout r : regions) {
                    if (!SAFE_NAME.matcher(r.name()).matches()) {
                        throw new IOException("region name '" + r.name() + "' is not a safe file name");
                    }
                    Path file = regions.size() == 1 ? dir.resolve(key) : dir.resolve(key + "." + r.name());
                    b.region(StateRegions.fileReplica(r.name(), file, r.sizeBytes()));
                }
                return b.build();
            } catch (IOException | RuntimeException e) {
                b.build().close();
                throw e;
            }
        };
    }

    static java.util.Set<String> union(java.util.Set<String> a, String... more) {
        java.util.Set<String> s = new java.util.HashSet<>(a);
        s.addAll(java.util.List.of(more));
        return s;
    }
}
