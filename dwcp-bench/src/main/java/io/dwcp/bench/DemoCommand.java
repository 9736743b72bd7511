package io.dwcp.bench;

import io.dwcp.core.DataSize;
import io.dwcp.core.DwcpManager;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.config.TransportKeys;
import io.dwcp.core.migration.MigrationSender;
import io.dwcp.core.migration.ReplicaFactory;
import io.dwcp.core.migration.RoundReport;
import io.dwcp.core.transport.TransportListener;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code dwcp demo}: one command that shows a whole migration. It starts a receiver and a sender (two independent
 * DWCP nodes) in this process on loopback, generates a SYNTHETIC guest-memory image ({@link SyntheticVm}: zero
 * pages, text, code-like and pointer-heavy pages, duplicates, incompressible pages), migrates it in pre-copy rounds
 * while a dirtying workload changes it between rounds, verifies the receiver's replica byte for byte against the
 * source after every round, and prints the report. Loopback numbers say nothing about a WAN: see the README's
 * benchmarks for measured figures.
 */
final class DemoCommand implements DwcpCli.Command {
    @Override
    public String summary() {
        return "in-process loopback migration of a synthetic VM image in rounds, verified byte for byte";
    }

    @Override
    public int run(String[] args) throws Exception {
        CliArgs a = new CliArgs(args, Set.of("size", "rounds", "dirty", "seed", "streams", "level"), Set.of("json", "help"));
        if (a.flag("help")) {
            System.err.println("usage: dwcp demo [--size 256MiB] [--rounds 5] [--dirty 0.05] [--seed 1] [--streams auto|N] [--level zstd:3] [--json]");
            return 0;
        }
        long size = DataSize.parse(a.get("size", "256MiB")).bytes();
        if (size <= 0 || size > Integer.MAX_VALUE - SyntheticVm.PAGE || size % SyntheticVm.PAGE != 0) {
            throw new CliArgs.UsageException("--size must be a whole number of 4KiB pages below 2GiB, got " + a.get("size"));
        }
        int rounds = Integer.parseInt(a.get("rounds", "5"));
        double dirty = Double.parseDouble(a.get("dirty", "0.05"));
        long seed = Long.parseLong(a.get("seed", "1"));
        boolean json = a.flag("json");

        DwcpConfig.Builder cb = DwcpConfig.builder().set(TransportKeys.TLS_ENABLED, false)
                .set("dwcp.cpu.max-threads", Integer.toString(Runtime.getRuntime().availableProcessors()));
        String streams = a.get("streams", "auto");
        if (!streams.equals("auto")) {
            cb.set("dwcp.transport.min-streams", streams).set("dwcp.transport.initial-streams", streams).set("dwcp.transport.max-streams", streams);
        }
        if (a.get("level") != null) {
            for (String tier : new String[]{"local", "regional", "wan"}) {
                cb.set("dwcp.compression.level." + tier, a.get("level"));
            }
        }
        DwcpConfig config = cb.build();

        System.out.printf("DWCP demo: SYNTHETIC %s guest image, %d rounds, %.0f%% of pages dirtied between rounds, loopback, plaintext%n",
                DataSize.format(size), rounds, dirty * 100);
        ByteBuffer ram = ByteBuffer.allocateDirect((int) size);
        SyntheticVm.fill(ram, seed);
        ByteBuffer replica = ByteBuffer.allocateDirect((int) size);
        ReplicaFactory memoryReplica = (key, pageSize, regions) -> {
            if (regions.size() != 1 || regions.get(0).sizeBytes() != size) {
                throw new IOException("demo replica expects one region of " + size + " bytes, got " + regions);
            }
            return VmState.<WritableRegion>builder(key).pageSizeBytes(pageSize).region(StateRegions.ofBuffer(regions.get(0).name(), replica)).build();
        };

        List<RoundReport> reports = new ArrayList<>();
        long start = System.nanoTime();
        try (DwcpManager receiverNode = DwcpManager.builder().config(config).build();
             DwcpManager senderNode = DwcpManager.builder().config(config).build()) {
            receiverNode.start();
            senderNode.start();
            TransportListener listener = receiverNode.transport()
                    .listen(new InetSocketAddress("127.0.0.1", 0), receiverNode.migrationReceiver(memoryReplica, r -> { })).join();
            try (MigrationSender sender = senderNode.openMigration(listener.localAddress()).join()) {
                ProgressBar bar = ProgressBar.forTerminal();
                sender.progress(bar);
                for (int round = 0; round < rounds; round++) {
                    if (round > 0) {
                        SyntheticVm.dirty(ram, seed * 1000 + round, dirty);
                    }
                    VmState<StateRegion> state = VmState.of("demo-vm", StateRegions.ofBuffer("ram", ram.duplicate()));
                    bar.label("round " + round);
                    RoundReport r = sender.sendRound(state, null);
                    bar.done();
                    if (!replica.duplicate().clear().equals(ram.duplicate().clear())) {
                        throw new IllegalStateException("replica differs from the source after round " + round);
                    }
                    reports.add(r);
                    System.out.println(SendCommand.describe(r, null) + ", replica verified");
                }
            } finally {
                listener.close();
            }
        }
        double wall = (System.nanoTime() - start) / 1e9;
        long wire = reports.stream().mapToLong(RoundReport::wireBytes).sum();
        long input = reports.stream().mapToLong(RoundReport::inputBytes).sum();
        System.out.printf("migrated %,d bytes of state in %,d wire bytes (ratio %.1f) in %.2f s; every round verified byte for byte%n",
                input, wire, (double) input / Math.max(1, wire), wall);
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("synthetic", true);
            m.put("wallSeconds", wall);
            m.put("inputBytes", input);
            m.put("wireBytes", wire);
            m.put("verified", true);
            List<Object> rs = new ArrayList<>();
            reports.forEach(r -> rs.add(SendCommand.toJson(r, null)));
            m.put("rounds", rs);
            System.out.println(Json.write(m));
        }
        return 0;
    }
}
