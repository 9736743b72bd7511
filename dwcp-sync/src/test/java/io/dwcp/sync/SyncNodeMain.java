package io.dwcp.sync;

import io.dwcp.core.spi.MetadataStore;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

/**
 * One sync replica as a separate process, driven line by line on stdin by {@link SyncCluster}; answers on stdout.
 * Commands: {@code listen}, {@code peer PORT}, {@code inc KEY N}, {@code add KEY ELEM}, {@code rem KEY ELEM},
 * {@code put KEY VALUE}, {@code del KEY}, {@code get-counter KEY}, {@code get-set KEY}, the operations on the other
 * CRDT types of {@link AllTypes} and {@code get KEY} (any type, rendered), {@code digest}, {@code root},
 * {@code stats}, {@code rounds}, {@code msgfaults DROP DUP REORDER}, {@code keyhashes}, {@code stale-read KEY MILLIS},
 * {@code load COUNT DIFF}, {@code churn KEYS COUNT SEED}, {@code ae PORT}, {@code quit};
 * for the lag measurement {@code listen HOST}, {@code peer HOST:PORT}, {@code lagw KEY} (increments KEY, answers the
 * {@link System#nanoTime()} just before), {@code lagcount} and {@code lagdump} (the nanoTime at which each received
 * {@code lag-*} key first changed here: one machine-wide monotonic clock for every process). Arguments after the node id are
 * {@code key=value} configuration, plus {@code message-drops=P}, {@code message-duplicates=P} and {@code message-delays=P} for
 * message-boundary faults. Logs go to stderr.
 */
public final class SyncNodeMain {
    private SyncNodeMain() {
    }

    public static void main(String[] args) throws Exception {
        String nodeId = args[0];
        io.dwcp.core.config.DwcpConfig.Builder cb = Nodes.config(nodeId).toBuilder();
        double duplicates = 0;
        double delays = 0;
        double drops = 0;
        for (int i = 1; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            String key = args[i].substring(0, eq);
            String value = args[i].substring(eq + 1);
            if (key.equals("message-duplicates")) {
                duplicates = Double.parseDouble(value);
            } else if (key.equals("message-delays")) {
                delays = Double.parseDouble(value);
            } else if (key.equals("message-drops")) {
                drops = Double.parseDouble(value);
            } else {
                cb.set(key, value);
            }
        }
        try (Nodes.Node node = Nodes.start(cb.build(), drops, duplicates, delays)) {
            AssSync sync = node.sync();
            MetadataStore md = sync.metadata();
            java.util.Map<String, Long> firstSeen = new java.util.concurrent.ConcurrentHashMap<>();
            sync.store().onMerged(k -> {
                if (k.startsWith("lag-")) {
                    firstSeen.putIfAbsent(k, System.nanoTime());
                }
            });
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null) {
                String[] p = line.trim().split(" ", 3);
                String out;
                try {
                    out = switch (p[0]) {
                        case "listen" -> "PORT " + sync.listen(new InetSocketAddress(p.length > 1 ? InetAddress.getByName(p[1])
                                        : InetAddress.getLoopbackAddress(), 0)).get(10, TimeUnit.SECONDS).getPort();
                        case "peer" -> {
                            sync.addPeer(address(p[1]));
                            yield "OK";
                        }
                        case "lagw" -> {
                            long t = System.nanoTime();
                            md.addToCounter(p[1], 1);
                            yield "T " + t;
                        }
                        case "lagcount" -> "COUNT " + firstSeen.size();
                        case "lagdump" -> {
                            StringBuilder b = new StringBuilder("LAG");
                            firstSeen.forEach((k, t) -> b.append(' ').append(k).append('=').append(t));
                            yield b.toString();
                        }
                        case "inc" -> {
                            md.addToCounter(p[1], Long.parseLong(p[2]));
                            yield "OK";
                        }
                        case "add" -> {
                            md.addToSet(p[1], p[2]);
                            yield "OK";
                        }
                        case "rem" -> {
                            md.removeFromSet(p[1], p[2]);
                            yield "OK";
                        }
                        case "put" -> {
                            md.putRegister(p[1], p[2]);
                            yield "OK";
                        }
                        case "del" -> {
                            md.remove(p[1]);
                            yield "OK";
                        }
                        case "gc-inc", "gs-add", "tp-add", "tp-rem", "lww", "mv", "map-inc", "rga-ins", "rga-del" ->
                                AllTypes.apply(sync, p);
                        case "get" -> "VALUE " + AllTypes.render(sync.store().get(p[1]).orElse(null));
                        case "get-counter" -> "VALUE " + md.counter(p[1]);
                        case "get-set" -> "VALUE " + String.join(",", new java.util.TreeSet<>(md.set(p[1])));
                        case "digest" -> "DIGEST " + HexFormat.of().formatHex(
                                MessageDigest.getInstance("SHA-256").digest(sync.store().canonicalSnapshot())).substring(0, 16)
                                + " " + sync.store().entryCount();
                        // cheap: the hash tree's root (XOR of per-key digests of canonical states) and the key count
                        case "root" -> "ROOT " + Long.toHexString(sync.store().index().root()) + " " + sync.store().entryCount();
                        case "diag" -> "DIAG root " + Long.toHexString(sync.store().index().root()) + " keys "
                                + sync.store().entryCount() + " buffered " + sync.store().bufferedDeltas() + " sendFailed "
                                + node.meters().get("dwcp.ass.gossip").tag("outcome", "send-failed").functionCounter().count()
                                + " ttlExpired " + node.meters().get("dwcp.ass.gossip").tag("outcome", "ttl-expired").functionCounter().count()
                                + " received " + node.meters().get("dwcp.ass.gossip").tag("outcome", "received").functionCounter().count()
                                + " delivered " + sync.stats().deltaMessagesSent() + " started " + sync.gossipSendsStarted()
                                + " rumoursQueued " + sync.rumourQueue()[0] + " rumoursDropped " + sync.rumourQueue()[1];
                        case "stats" -> {
                            SyncStats st = sync.stats();
                            yield "STATS " + st.bytesSent() + " " + st.deltaBytesSent() + " " + st.antiEntropyBytesSent()
                                    + " " + st.deltaMessagesSent() + " " + st.antiEntropyRoundsOk() + " " + st.duplicates();
                        }
                        case "load" -> {
                            load(sync.store(), Integer.parseInt(p[1]), Integer.parseInt(p[2]));
                            yield "OK";
                        }
                        case "churn" -> {
                            String[] q = p[2].split(" ");
                            churn(sync.store(), Integer.parseInt(p[1]), Integer.parseInt(q[0]), Long.parseLong(q[1]));
                            yield "OK";
                        }
                        case "ae" -> {
                            InetSocketAddress peer = address(p[1]);
                            // "ae PORT flat": every key's digest instead of the tree (the benchmark's baseline)
                            (p.length > 2 && p[2].equals("flat") ? sync.antiEntropyFlat(peer) : sync.antiEntropy(peer))
                                    .get(10, TimeUnit.MINUTES);
                            yield "OK";
                        }
                        case "bump" -> {
                            String[] q = p[2].split(" ");
                            bump(sync.store(), Integer.parseInt(p[1]), Integer.parseInt(q[0]), Long.parseLong(q[1]));
                            yield "OK";
                        }
                        case "rounds" -> "ROUNDS " + sync.rumourRoundsRun();
                        case "msgfaults" -> {
                            // msgfaults DROP DUP REORDER: changes the message-boundary faults (0 0 0 ends them)
                            String[] q = p[2].split(" ");
                            if (node.transport() instanceof MessageFaultTransport f) {
                                f.faults(Double.parseDouble(p[1]), Double.parseDouble(q[0]), Double.parseDouble(q[1]));
                            }
                            yield "OK";
                        }
                        case "keyhashes" -> {
                            // every held key with a hash of its canonical state, for counting divergent keys
                            StringBuilder b = new StringBuilder("KEYS");
                            for (String k : new java.util.TreeSet<>(sync.store().heldKeys())) {
                                b.append(' ').append(k).append('=').append(java.util.Arrays.hashCode(sync.store().state(k).encode()));
                            }
                            yield b.toString();
                        }
                        case "stale-read" -> {
                            // a bounded read of KEY with bound MILLIS: STALE when this replica cannot meet it
                            try {
                                sync.read(p[1], java.time.Duration.ofMillis(Long.parseLong(p[2])));
                                yield "FRESH";
                            } catch (io.dwcp.core.DwcpException e) {
                                if (e.code() != io.dwcp.core.ErrorCode.STALE) {
                                    throw e;
                                }
                                yield "STALE";
                            }
                        }
                        case "quit" -> "BYE";
                        default -> "ERR unknown command " + p[0];
                    };
                } catch (Exception e) {
                    out = "ERR " + e;
                }
                System.out.println(out);
                System.out.flush();
                if ("quit".equals(p[0])) {
                    break;
                }
            }
        }
        System.exit(0);
    }

    /** {@code PORT} (loopback) or {@code HOST:PORT}. */
    private static InetSocketAddress address(String s) throws java.net.UnknownHostException {
        int colon = s.lastIndexOf(':');
        return colon < 0 ? new InetSocketAddress(InetAddress.getLoopbackAddress(), Integer.parseInt(s))
                : new InetSocketAddress(InetAddress.getByName(s.substring(0, colon)), Integer.parseInt(s.substring(colon + 1)));
    }

    /**
     * Puts {@code count} counter keys {@code k-0 …} into the store as states from a fixed loader replica, without
     * gossip (as if they had been replicated earlier); the {@code diff} keys {@code k-0, k-step, …} get one more.
     */
    static void load(ReplicatedStore store, int count, int diff) {
        int step = diff == 0 ? Integer.MAX_VALUE : Math.max(1, count / diff);
        int changed = 0;
        for (int i = 0; i < count; i++) {
            long v = i + 1;
            if (changed < diff && i % step == 0) {
                v++;
                changed++;
            }
            long value = v;
            String key = "k-" + i;
            // an update applied to an empty entry is that entry's whole state
            store.mergeState(key, io.dwcp.sync.crdt.OrMap.EMPTY.updateDelta("loader@0", key,
                    io.dwcp.sync.crdt.PNCounter.EMPTY, c -> c.addDelta("loader@0", value)));
        }
    }

    /**
     * Changes {@code count} distinct keys among {@code k-0 … k-(keys-1)}, chosen with {@code seed}, by merging a state in
     * which replica {@code bumper@0} counts {@code seed}: no gossip (as if received from a replica that is gone), so
     * only anti-entropy can carry the change. Larger seeds change a key again.
     */
    static void bump(ReplicatedStore store, int keys, int count, long seed) {
        for (int i : chooseKeys(keys, count, seed)) {
            String key = "k-" + i;
            store.mergeState(key, io.dwcp.sync.crdt.OrMap.EMPTY.updateDelta("bumper@0", key,
                    io.dwcp.sync.crdt.PNCounter.EMPTY, c -> c.addDelta("bumper@0", seed)));
        }
    }

    /** Increments {@code count} distinct counters among {@code k-0 … k-(keys-1)}, chosen with {@code seed}, as local updates. */
    static void churn(ReplicatedStore store, int keys, int count, long seed) {
        for (int i : chooseKeys(keys, count, seed)) {
            store.update("k-" + i, io.dwcp.sync.crdt.PNCounter.EMPTY, c -> c.addDelta(store.replicaId(), 1));
        }
    }

    /** {@code count} distinct key indexes below {@code keys}, drawn with {@code seed}. */
    private static java.util.Set<Integer> chooseKeys(int keys, int count, long seed) {
        java.util.Random rnd = new java.util.Random(seed);
        java.util.Set<Integer> chosen = new java.util.HashSet<>();
        while (chosen.size() < Math.min(count, keys)) {
            chosen.add(rnd.nextInt(keys));
        }
        return chosen;
    }
}
