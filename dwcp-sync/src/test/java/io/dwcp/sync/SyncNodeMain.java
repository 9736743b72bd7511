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
 * {@code put KEY VALUE}, {@code del KEY}, {@code get-counter KEY}, {@code get-set KEY}, {@code digest},
 * {@code stats}, {@code quit}. Logs go to stderr.
 */
public final class SyncNodeMain {
    private SyncNodeMain() {
    }

    public static void main(String[] args) throws Exception {
        String nodeId = args[0];
        try (Nodes.Node node = Nodes.start(Nodes.config(nodeId))) {
            AssSync sync = node.sync();
            MetadataStore md = sync.metadata();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null) {
                String[] p = line.trim().split(" ", 3);
                String out;
                try {
                    out = switch (p[0]) {
                        case "listen" -> "PORT " + sync.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                                .get(10, TimeUnit.SECONDS).getPort();
                        case "peer" -> {
                            sync.addPeer(new InetSocketAddress(InetAddress.getLoopbackAddress(), Integer.parseInt(p[1])));
                            yield "OK";
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
                        case "get-counter" -> "VALUE " + md.counter(p[1]);
                        case "get-set" -> "VALUE " + String.join(",", new java.util.TreeSet<>(md.set(p[1])));
                        case "digest" -> "DIGEST " + HexFormat.of().formatHex(
                                MessageDigest.getInstance("SHA-256").digest(sync.store().canonicalSnapshot())).substring(0, 16)
                                + " " + sync.store().entryCount();
                        case "stats" -> "STATS " + sync.stats();
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

}
