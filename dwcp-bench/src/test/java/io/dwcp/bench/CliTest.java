package io.dwcp.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The dwcp tool's command dispatch, its bad-input exits, and the chart command's output. */
class CliTest {
    @Test
    void unknownCommandAndBadOptionsExitWithTwo() {
        assertEquals(2, DwcpCli.run(new String[]{"teleport"}));
        assertEquals(2, DwcpCli.run(new String[]{"demo", "--colour", "red"}));
        assertEquals(2, DwcpCli.run(new String[]{"demo", "--size", "3KiB"}));
        assertEquals(2, DwcpCli.run(new String[]{"send", "--to", "127.0.0.1:1", "--key", "k", "--rate-cap", "5", "--plaintext", "pom.xml"}));
    }

    @Test
    void nettyAllocatorJfrEventsAreOffUnlessTheUserSetTheProperty() {
        String before = System.getProperty(DwcpCli.NETTY_JFR);
        try {
            System.clearProperty(DwcpCli.NETTY_JFR);
            DwcpCli.nettyJfrOffUnlessSet();
            assertEquals("false", System.getProperty(DwcpCli.NETTY_JFR));

            System.setProperty(DwcpCli.NETTY_JFR, "true");
            DwcpCli.nettyJfrOffUnlessSet();
            assertEquals("true", System.getProperty(DwcpCli.NETTY_JFR), "-Dio.netty.jfr.enabled=true is kept");
        } finally {
            if (before == null) {
                System.clearProperty(DwcpCli.NETTY_JFR);
            } else {
                System.setProperty(DwcpCli.NETTY_JFR, before);
            }
        }
    }

    /** One TLS rule in every command that opens a transport: all three PEM files, or --plaintext; --key is no TLS option. */
    @Test
    void tlsOptionsAndThePlaintextRuleAreTheSameInEveryCommand() {
        String[][] withoutTls = {
                {"send", "--to", "127.0.0.1:1", "--key", "k", "pom.xml"},
                {"receive", "--listen", "127.0.0.1:0", "--out", "target"},
                {"bench-transport", "--to", "127.0.0.1:1"}};
        for (String[] args : withoutTls) {
            assertEquals(2, DwcpCli.run(args), "no TLS files and no --plaintext: " + String.join(" ", args));
        }
        assertEquals(2, DwcpCli.run(new String[]{"bench-transport", "--to", "127.0.0.1:1", "--cert", "c.pem", "--key", "k.pem",
                "--ca", "ca.pem"}), "--key is not the TLS key option (--key-file is)");
        CliArgs both = new CliArgs(new String[]{"--plaintext", "--cert", "c.pem"}, NodeOptions.TLS_VALUES, NodeOptions.TLS_FLAGS);
        CliArgs.UsageException mixed = org.junit.jupiter.api.Assertions.assertThrows(CliArgs.UsageException.class,
                () -> NodeOptions.tls(both, io.dwcp.core.config.DwcpConfig.builder()));
        assertTrue(mixed.getMessage().contains("--plaintext takes no TLS option"), mixed.getMessage());
        CliArgs half = new CliArgs(new String[]{"--cert", "c.pem", "--key-file", "k.pem"}, NodeOptions.TLS_VALUES, NodeOptions.TLS_FLAGS);
        CliArgs.UsageException e = org.junit.jupiter.api.Assertions.assertThrows(CliArgs.UsageException.class,
                () -> NodeOptions.tls(half, io.dwcp.core.config.DwcpConfig.builder()));
        assertTrue(e.getMessage().contains("TLS needs all of --cert, --key-file and --ca"), e.getMessage());
        CliArgs full = new CliArgs(new String[]{"--cert", "c.pem", "--key-file", "k.pem", "--ca", "ca.pem", "--no-mutual"},
                NodeOptions.TLS_VALUES, NodeOptions.TLS_FLAGS);
        io.dwcp.core.config.DwcpConfig config = NodeOptions.tls(full, io.dwcp.core.config.DwcpConfig.builder()).build();
        assertEquals("k.pem", config.get(io.dwcp.core.config.TransportKeys.TLS_PRIVATE_KEY).orElseThrow());
        assertFalse(config.get(io.dwcp.core.config.TransportKeys.TLS_MUTUAL));
    }

    @Test
    void sendNoticesASnapshotFileThatChanged(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("s0.ram");
        Files.write(f, new byte[8192]);
        SendCommand.FileStamp stamp = SendCommand.FileStamp.of(f);
        stamp.checkUnchanged();
        Files.setLastModifiedTime(f, java.nio.file.attribute.FileTime.fromMillis(
                Files.getLastModifiedTime(f).toMillis() + 2000));
        io.dwcp.core.DwcpException e = org.junit.jupiter.api.Assertions.assertThrows(io.dwcp.core.DwcpException.class,
                stamp::checkUnchanged);
        assertEquals(io.dwcp.core.ErrorCode.IO_ERROR, e.code());
        assertTrue(e.getMessage().contains("changed while dwcp send used it"), e.getMessage());
        SendCommand.FileStamp again = SendCommand.FileStamp.of(f);
        Files.write(f, new byte[4096]);
        org.junit.jupiter.api.Assertions.assertThrows(io.dwcp.core.DwcpException.class, again::checkUnchanged, "a new size");
    }

    @Test
    void everyDocumentedCommandIsRegistered() {
        for (String c : new String[]{"send", "receive", "demo", "encode", "bench-transport", "chart", "check-history"}) {
            assertTrue(DwcpCli.commands().containsKey(c), c);
        }
    }

    @Test
    void checkHistoryExitsZeroForALinearizableHistoryAndOneForAStaleRead(@TempDir Path dir) throws Exception {
        Path good = dir.resolve("good.jsonl");
        io.dwcp.consensus.check.HistoryFile.write(good, java.util.List.of(
                io.dwcp.consensus.check.Operation.write(1, "k", "a", 0, 10), io.dwcp.consensus.check.Operation.read(2, "k", "a", 20, 30)));
        assertEquals(0, DwcpCli.run(new String[]{"check-history", good.toString(), "--json"}));
        Path stale = dir.resolve("stale.jsonl");
        io.dwcp.consensus.check.HistoryFile.write(stale, java.util.List.of(
                io.dwcp.consensus.check.Operation.write(1, "k", "a", 0, 10), io.dwcp.consensus.check.Operation.write(1, "k", "b", 20, 30),
                io.dwcp.consensus.check.Operation.read(2, "k", "a", 40, 50)));
        assertEquals(1, DwcpCli.run(new String[]{"check-history", stale.toString()}));
        java.nio.file.Files.writeString(dir.resolve("bad.jsonl"), "{\"process\":1}\n");
        assertEquals(2, DwcpCli.run(new String[]{"check-history", dir.resolve("bad.jsonl").toString()}));
    }

    @Test
    void chartWritesAPngOfTheAskedSize(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("goodput.csv");
        Files.writeString(csv, "# seconds, Mbit/s\nt,dwcp,zstd\n0,0,0\n1,350,240\n2,380,\n3,0,250\n");
        Path png = dir.resolve("out.png");
        assertEquals(0, DwcpCli.run(new String[]{"chart", "--csv", csv.toString(), "--out", png.toString(),
                "--hline", "400:link", "--width", "640", "--height", "320"}));
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img, "not a readable image");
        assertEquals(640, img.getWidth());
        assertEquals(320, img.getHeight());
    }

    @Test
    void chartRefusesAMissingCsv(@TempDir Path dir) {
        assertFalse(DwcpCli.run(new String[]{"chart", "--csv", dir.resolve("none.csv").toString(), "--out",
                dir.resolve("x.png").toString()}) == 0);
    }
}
