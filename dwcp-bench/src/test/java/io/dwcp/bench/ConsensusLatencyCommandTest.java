package io.dwcp.bench;

import io.dwcp.core.DwcpManager;
import io.dwcp.core.config.DwcpConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code dwcp consensus-latency} and {@code dwcp send --hand-over}: options, and a run against a one-replica group. */
class ConsensusLatencyCommandTest {
    @Test
    void badOptionsExitTwo() {
        assertTrue(DwcpCli.commands().containsKey("consensus-latency"));
        assertEquals(2, DwcpCli.run(new String[]{"consensus-latency", "--target", "region:a"}));
        assertEquals(2, DwcpCli.run(new String[]{"consensus-latency", "--regions", "a", "--target", "region:a"}));
        assertEquals(2, DwcpCli.run(new String[]{"consensus-latency", "--regions", "a=n1@127.0.0.1:1", "--target", "region:a",
                "--ops", "0"}));
        assertEquals(2, DwcpCli.run(new String[]{"send", "--to", "127.0.0.1:1", "--key", "vm", "--hand-over", "site-a",
                "pom.xml"}));
        assertEquals(2, DwcpCli.run(new String[]{"send", "--to", "127.0.0.1:1", "--key", "vm", "--hand-over", "a:a",
                "pom.xml"}));
    }

    @Test
    void measuresCommitsOfARegionalGroupAndOfAGlobalKey(@TempDir Path dir) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String peers = "n1@127.0.0.1:" + port;
        DwcpConfig config = DwcpConfig.builder().set("dwcp.node-id", "n1").set("dwcp.consensus.group", "g")
                .set("dwcp.consensus.peers", peers).set("dwcp.consensus.storage-dir", dir.toString())
                .set("dwcp.consensus.fsync", "false").set("dwcp.transport.tls.enabled", "false").build();
        try (DwcpManager replica = DwcpManager.builder().config(config).build()) {
            replica.start();
            PrintStream out = System.out;
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            try {
                assertEquals(0, DwcpCli.run(new String[]{"consensus-latency", "--regions", "g=" + peers, "--target", "region:g",
                        "--ops", "5", "--warmup", "1", "--json"}));
                assertEquals(0, DwcpCli.run(new String[]{"consensus-latency", "--regions", "g=" + peers, "--target",
                        "global:plan", "--home", "g", "--ops", "5", "--warmup", "1", "--json"}));
            } finally {
                System.setOut(out);
            }
            String text = buf.toString(StandardCharsets.UTF_8);
            assertTrue(text.contains("\"target\":\"region:g\",\"home\":null,\"ops\":5"), text);
            assertTrue(text.contains("\"target\":\"global:plan\",\"home\":\"g\",\"ops\":5"), text);
            assertEquals("H0+v4", replica.consensus().read("g/plan").get().value(), "the global key lives in its home group");
        }
    }
}
