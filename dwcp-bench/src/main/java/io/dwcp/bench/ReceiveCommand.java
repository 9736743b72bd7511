package io.dwcp.bench;

import io.dwcp.core.DwcpManager;
import io.dwcp.core.migration.FileReplicas;
import io.dwcp.core.migration.InPlaceReplica;
import io.dwcp.core.migration.ReplicaFactory;
import io.dwcp.core.migration.MigrationReceiver;
import io.dwcp.core.transport.TransportListener;
import io.dwcp.transport.netty.AmstTransport;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * {@code dwcp receive --listen HOST:PORT --out DIR}: accepts migrations until killed and writes each state to
 * {@code DIR/KEY} (one file per region, {@code DIR/KEY~REGION}, when a state has several). Every round is verified
 * (frame checksums and the whole-state digest) before it touches the file ({@link FileReplicas}: staged full rounds,
 * one writer per key, replicas left partly written by a crash are marked and repaired by a full round); a line per
 * verified round goes to stdout (JSON with {@code --json}).
 *
 * <p>{@code --into KEY=FILE} writes the rounds of KEY into the existing FILE in place instead ({@link InPlaceReplica}):
 * the RAM file of a destination QEMU that maps it, for {@code dwcp qemu-migrate}. FILE must already have the state's
 * exact size; it is never renamed, truncated or extended.
 *
 * <p>{@code --seed-image KEY=FILE} and {@code --seed-from
 * KEY=OTHERKEY} give a key without a replica of the state's size a seed (a golden image, another key's replica) that
 * replica-seeded rounds start from.
 */
final class ReceiveCommand implements DwcpCli.Command {
    @Override
    public String summary() {
        return "receive migrations into --out DIR until killed; verifies every round";
    }

    @Override
    public int run(String[] args) throws Exception {
        CliArgs a = new CliArgs(args, NodeOptions.union(NodeOptions.WITH_VALUE, "listen", "out", "into", "seed-image", "seed-from"),
                NodeOptions.FLAGS);
        if (a.flag("help")) {
            System.err.println("usage: dwcp receive --listen HOST:PORT --out DIR [--into KEY=FILE] [--seed-image KEY=FILE]"
                    + " [--seed-from KEY=OTHERKEY] " + NodeOptions.USAGE);
            return 0;
        }
        Path out = Path.of(a.require("out"));
        boolean json = a.flag("json");
        // The connection code warms up while the configuration and the manager are built.
        AmstTransport.warmUpInBackground();
        DwcpManager manager = NodeOptions.manager(NodeOptions.config(a));
        FileReplicas.Builder rb = FileReplicas.builder(out);
        String[] image = pair(a.get("seed-image"), "--seed-image");
        if (image != null) {
            rb.seedImage(image[0], CliArgs.regularFile("--seed-image", image[1]));
        }
        String[] from = pair(a.get("seed-from"), "--seed-from");
        if (from != null) {
            rb.seedFrom(from[0], from[1]);
        }
        FileReplicas replicas = rb.build();
        if (!replicas.inconsistentKeys().isEmpty()) {
            System.err.println("dwcp receive: replicas marked inconsistent (an earlier receiver stopped while writing"
                    + " them; their next round is full): " + replicas.inconsistentKeys());
        }
        CountDownLatch stopped = new CountDownLatch(1);
        // After each round: the C heap's free pages go back to the system (see NativeHeap), so that the receiver's
        // resident memory does not grow from one migration to the next.
        NativeHeap nativeHeap = NativeHeap.forThisJvm();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            manager.close();
            nativeHeap.close();
            try {
                replicas.close();
            } catch (IOException e) {
                System.err.println("dwcp receive: closing " + out + ": " + e);
            }
            stopped.countDown();
        }, "dwcp-receive-shutdown"));
        manager.start();
        // Between migrations a receiver waits for hours: it gives back the heap its last rounds used.
        IdleHeap.enable();
        // --into KEY=FILE: that key's rounds are written in place into an existing file (a destination QEMU's RAM file).
        ReplicaFactory target = a.get("into") == null ? replicas : into(a.get("into"), replicas);
        MigrationReceiver receiver = manager.migrationReceiver(target, r -> {
            nativeHeap.requestTrim();
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
        }, failed -> {
            nativeHeap.requestTrim();
            if (json) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("key", failed.key());
                m.put("round", failed.round());
                m.put("peer", String.valueOf(failed.peer()));
                m.put("verified", false);
                m.put("code", failed.cause().code().name());
                m.put("error", failed.cause().getMessage());
                System.out.println(Json.write(m));
            } else {
                System.out.printf("%s round %s failed: %s%n", failed.key(), failed.round() < 0 ? "?" : failed.round(),
                        failed.cause().getMessage());
            }
            System.out.flush();
        });
        TransportListener listener = manager.transport().listen(NodeOptions.address(a.require("listen")), receiver).join();
        System.err.println("dwcp receive: listening on " + listener.localAddress() + ", writing to " + out);
        stopped.await();
        return 0;
    }

    /** {@code KEY=FILE}: an {@link InPlaceReplica} of KEY in FILE; other keys go to {@code others}. */
    static InPlaceReplica into(String spec, ReplicaFactory others) {
        int eq = spec.indexOf('=');
        if (eq <= 0 || eq == spec.length() - 1) {
            throw new CliArgs.UsageException("--into takes KEY=FILE, got '" + spec + "'");
        }
        return InPlaceReplica.of(spec.substring(0, eq), Path.of(spec.substring(eq + 1)), others);
    }

    /** Splits {@code KEY=VALUE}; null for null. */
    private static String[] pair(String value, String option) {
        if (value == null) {
            return null;
        }
        int eq = value.indexOf('=');
        if (eq <= 0 || eq == value.length() - 1) {
            throw new CliArgs.UsageException(option + " takes KEY=VALUE, not '" + value + "'");
        }
        return new String[]{value.substring(0, eq), value.substring(eq + 1)};
    }
}
