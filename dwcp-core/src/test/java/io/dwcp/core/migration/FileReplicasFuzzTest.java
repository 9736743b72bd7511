package io.dwcp.core.migration;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.dwcp.core.DataSize;
import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;
import io.dwcp.core.testing.FuzzSeeds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Fuzzes the receiver's replica directory ({@link FileReplicas}) with what a hostile sender controls: the transfer's
 * key and the round header (page size, region count, names and sizes), as {@link MigrationReceiver} passes them on.
 * Only the documented codes may come out; a refused round leaves every file exactly as it was; a discarded full round
 * leaves nothing behind; a published one changes only its own key's files, and the key is free again afterwards.
 * Regression mode (the default build) replays the committed inputs; {@code JAZZER_FUZZ=1} fuzzes (docs/fuzzing.md).
 *
 * <p>Input layout: byte 0 = options (bits 0..1: 0 delta round, 1 full round published, 2 full round discarded,
 * 3 full round published then a delta of the same layout; bit 2: write a pattern into every region; bit 3: pass the
 * page size of bytes 2..5 to the factory as it is instead of the parsed header's), byte 1 = key length n, bytes
 * 2..5 = raw page size, then n bytes of key (UTF-8, decoded as the transport does), then a round header after its
 * fixed magic/version/flags (round, page size, region count, regions).
 */
class FileReplicasFuzzTest {
    private static final Set<ErrorCode> REFUSALS = EnumSet.of(ErrorCode.PROTOCOL_ERROR, ErrorCode.LIMIT_EXCEEDED,
            ErrorCode.BASELINE_MISSING, ErrorCode.RESOURCE_EXHAUSTED);
    private static final long MAX_STATE = 1 << 20;
    private static final Path ROOT;

    static {
        try {
            // tmpfs when there is one: publishing fsyncs, which a disk makes the slowest part of an input.
            Path shm = Path.of("/dev/shm");
            ROOT = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "dwcp-replicas-fuzz")
                    : Files.createTempDirectory("dwcp-replicas-fuzz");
            ROOT.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        System.setProperty("org.slf4j.simpleLogger.log." + FileReplicas.class.getName(), "error");
    }

    private static int runs;

    @FuzzTest(maxDuration = "10m")
    void layouts(byte[] input) throws IOException {
        if (input.length < 6) {
            return;
        }
        int op = input[0] & 3;
        boolean write = (input[0] & 4) != 0;
        boolean rawPageSize = (input[0] & 8) != 0;
        int keyLen = input[1] & 0xFF;
        int raw = ByteBuffer.wrap(input, 2, 4).getInt();
        if (input.length < 6 + keyLen) {
            return;
        }
        String key = new String(input, 6, keyLen, StandardCharsets.UTF_8);
        ByteBuffer header = ByteBuffer.allocate(8 + input.length - 6 - keyLen);
        header.put(MigrationWire.roundHeader(0, 4096, List.of(new ReplicaFactory.RegionLayout("x", 0)), false)
                .limit(8)).put(input, 6 + keyLen, input.length - 6 - keyLen).flip();
        MigrationWire.RoundHeader h;
        try {
            h = MigrationWire.parseRoundHeader(header);
        } catch (DwcpException e) {
            return;
        }
        if (h == null) {
            return;
        }
        int pageSize = rawPageSize ? raw : h.pageSize();
        Path dir = ROOT.resolve("run-" + runs++);
        try {
            run(dir, op, write, key, pageSize, h.regions());
        } finally {
            deleteTree(dir);
        }
    }

    private static void run(Path dir, int op, boolean write, String key, int pageSize,
                            List<ReplicaFactory.RegionLayout> regions) throws IOException {
        try (FileReplicas files = FileReplicas.builder(dir).maxStateSize(DataSize.ofBytes(MAX_STATE)).maxRegions(16).build()) {
            full(files, "vm", List.of(new ReplicaFactory.RegionLayout("ram", 8192)), (byte) 1);
            full(files, "mr", List.of(new ReplicaFactory.RegionLayout("a", 4096), new ReplicaFactory.RegionLayout("b", 8192)),
                    (byte) 2);
            Map<String, byte[]> before = contents(dir);
            boolean valid = pageSize >= 512 && pageSize <= (2 << 20) && Integer.bitCount(pageSize) == 1;
            try {
                if (op == 0) {
                    try (VmState<WritableRegion> s = files.open(key, pageSize, regions)) {
                        if (write) {
                            fill(s, (byte) 9);
                        }
                    }
                } else {
                    try (ReplicaFactory.StagedReplica staged = files.openStaged(key, pageSize, regions)) {
                        assertEquals(before, contents(dir, true), "staging files are hidden and touch no replica");
                        if (write) {
                            fill(staged.state(), (byte) 7);
                        }
                        if (op != 2) {
                            staged.publish();
                        }
                    }
                    if (op == 2) {
                        assertEquals(before, contents(dir), "a discarded full round leaves every file as it was");
                    } else {
                        checkPublished(dir, before, key, regions, write);
                        if (op == 3) {
                            try (VmState<WritableRegion> s = files.open(key, pageSize, regions)) {
                                assertEquals(regions.size(), s.regions().size());
                            }
                        }
                    }
                }
            } catch (DwcpException e) {
                assertTrue(REFUSALS.contains(e.code()), "undocumented code " + e.code() + ": " + e.getMessage());
                assertEquals(before, contents(dir), "a refused round changed files: " + e.getMessage());
            } catch (IllegalArgumentException e) {
                assertFalse(valid, "IllegalArgumentException for a valid page size: " + e);
                assertEquals(before, contents(dir), "a refused round changed files: " + e.getMessage());
            } catch (IOException | RuntimeException e) {
                fail("raw " + e + " for key '" + key + "', page size " + pageSize + ", regions " + regions, e);
            }
            assertTrue(files.inconsistentKeys().isEmpty(), "a marker is left: " + files.inconsistentKeys());
            // Every key is free again: a later full round of each is not refused as busy.
            full(files, "vm", List.of(new ReplicaFactory.RegionLayout("ram", 8192)), (byte) 3);
            if (op != 0 && valid) {
                try (ReplicaFactory.StagedReplica again = files.openStaged(key, pageSize, regions)) {
                    assertTrue(again.state().regions().size() == regions.size());
                } catch (DwcpException e) {
                    assertTrue(e.code() != ErrorCode.KEY_BUSY, "the key stayed busy: " + e.getMessage());
                }
            }
        }
    }

    /** After a published full round: the key's files are the new ones; the other keys' files are as they were. */
    private static void checkPublished(Path dir, Map<String, byte[]> before, String key,
                                       List<ReplicaFactory.RegionLayout> regions, boolean written) throws IOException {
        Map<String, byte[]> after = contents(dir);
        Map<String, byte[]> expected = new TreeMap<>(before);
        for (ReplicaFactory.RegionLayout r : regions) {
            String name = regions.size() == 1 ? key : key + "~" + r.name();
            byte[] content = new byte[(int) r.sizeBytes()];
            if (written) {
                Arrays.fill(content, (byte) 7);
            }
            expected.put(name, content);
        }
        assertEquals(expected.keySet(), after.keySet(), "files after publishing '" + key + "'");
        for (Map.Entry<String, byte[]> e : expected.entrySet()) {
            assertArrayEquals(e.getValue(), after.get(e.getKey()), "content of " + e.getKey());
        }
    }

    private static void full(FileReplicas files, String key, List<ReplicaFactory.RegionLayout> regions, byte value)
            throws IOException {
        try (ReplicaFactory.StagedReplica staged = files.openStaged(key, 4096, regions)) {
            fill(staged.state(), value);
            staged.publish();
        }
    }

    private static void fill(VmState<WritableRegion> s, byte value) throws IOException {
        for (WritableRegion r : s.regions()) {
            byte[] b = new byte[(int) r.sizeBytes()];
            Arrays.fill(b, value);
            r.write(0, ByteBuffer.wrap(b));
            r.flush();
        }
    }

    private static Map<String, byte[]> contents(Path dir) throws IOException {
        return contents(dir, false);
    }

    /** Name to content of every file of {@code dir} but the lock file (and, if asked, staging files). */
    private static Map<String, byte[]> contents(Path dir, boolean skipStaging) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> l = Files.list(dir)) {
            for (Path p : l.toList()) {
                String n = p.getFileName().toString();
                if (n.equals(".dwcp-replicas.lock") || (skipStaging && n.endsWith(".staging"))) {
                    continue;
                }
                out.put(n, Files.readAllBytes(p));
            }
        }
        return new ContentMap(out);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> w = Files.walk(dir)) {
            for (Path p : w.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** A name-to-bytes map compared by content (for assertEquals). */
    private static final class ContentMap extends TreeMap<String, byte[]> {
        ContentMap(Map<String, byte[]> m) {
            super(m);
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof Map<?, ?> m) || !m.keySet().equals(keySet())) {
                return false;
            }
            for (Map.Entry<String, byte[]> e : entrySet()) {
                if (!(m.get(e.getKey()) instanceof byte[] b) || !Arrays.equals(b, e.getValue())) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public int hashCode() {
            return keySet().hashCode();
        }

        @Override
        public String toString() {
            List<String> s = new ArrayList<>();
            forEach((k, v) -> s.add(k + "(" + v.length + " B)"));
            return s.toString();
        }
    }

    static Map<String, byte[]> seeds() {
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        List<ReplicaFactory.RegionLayout> two = List.of(new ReplicaFactory.RegionLayout("a", 4096),
                new ReplicaFactory.RegionLayout("b", 8192));
        List<ReplicaFactory.RegionLayout> one = List.of(new ReplicaFactory.RegionLayout("ram", 8192));
        seeds.put("delta-vm", input(0, "vm", 4096, one));
        seeds.put("delta-mr", input(4, "mr", 4096, two));
        seeds.put("full-new", input(5, "new", 4096, List.of(new ReplicaFactory.RegionLayout("ram", 12288))));
        seeds.put("full-mr-discarded", input(6, "mr", 4096, two));
        seeds.put("full-then-delta", input(7, "vm2", 4096, two));
        seeds.put("raw-page-size", input(9, "vm", 4095, one));
        return seeds;
    }

    private static byte[] input(int options, String key, int rawPageSize, List<ReplicaFactory.RegionLayout> regions) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        ByteBuffer h = MigrationWire.roundHeader(1, 4096, regions, (options & 3) != 0);
        h.position(8);
        ByteBuffer b = ByteBuffer.allocate(6 + k.length + h.remaining());
        b.put((byte) options).put((byte) k.length).putInt(rawPageSize).put(k).put(h);
        return b.array();
    }

    @Test
    void seedsAreValidRounds() throws IOException {
        for (Map.Entry<String, byte[]> s : seeds().entrySet()) {
            layouts(s.getValue());
        }
    }

    @Test
    @EnabledIfSystemProperty(named = FuzzSeeds.WRITE_PROPERTY, matches = "true")
    void writeSeeds() {
        FuzzSeeds.write(FileReplicasFuzzTest.class, "layouts", seeds());
    }
}
