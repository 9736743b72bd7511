package io.dwcp.consensus;

import io.dwcp.core.config.CoreKeys;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.ComponentContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;

/**
 * Runs one consensus replica as a stand-alone process: this module's consensus component alone (no other DWCP
 * component is started, whatever else is on the class path), configured from an optional file and then system
 * properties, e.g.
 *
 * <pre>{@code
 * java -cp ... -Ddwcp.node-id=n1 -Ddwcp.consensus.peers=n1@127.0.0.1:9871,n2@127.0.0.1:9872,n3@127.0.0.1:9873 \
 *      -Ddwcp.consensus.storage-dir=/var/lib/dwcp/n1 io.dwcp.consensus.ConsensusNode [dwcp.properties]
 * }</pre>
 *
 * It prints {@code READY <node-id>} on standard output once the replica has started, and stops cleanly when its
 * standard input reaches end-of-file (so a parent process that dies takes its replicas with it). Exit status 0 after
 * a clean stop, 1 when the configuration is invalid or the replica fails to start.
 */
public final class ConsensusNode {
    private ConsensusNode() {
    }

    /**
     * Entry point.
     *
     * @param args optional path of a {@code .properties} or {@code .yaml} configuration file
     * @throws IOException when standard input fails
     */
    public static void main(String[] args) throws IOException {
        DwcpConfig.Builder b = DwcpConfig.builder();
        if (args.length > 1) {
            System.err.println("usage: ConsensusNode [config-file]  (keys may also be given as -Ddwcp.… system properties)");
            System.exit(2);
        }
        if (args.length == 1) {
            b.file(Path.of(args[0]));
        }
        RatisConsensus replica;
        DwcpConfig config;
        try {
            config = b.systemProperties().build();
            replica = new RatisConsensus(ComponentContext.standalone(config, new SimpleMeterRegistry(), 2));
            replica.start();
        } catch (IOException | RuntimeException e) {
            System.err.println("consensus node failed to start: " + e.getMessage());
            e.printStackTrace(System.err);
            System.exit(1);
            return;
        }
        try {
            System.out.println("READY " + config.get(CoreKeys.NODE_ID).orElse("(no dwcp.node-id)"));
            System.out.flush();
            InputStream in = System.in;
            byte[] sink = new byte[256];
            while (in.read(sink) != -1) {
                // input is ignored: only its end matters
            }
        } finally {
            replica.stop();
        }
    }
}
